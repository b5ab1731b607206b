use observe::observe_async;

async fn work() {}

fn main() {
    let _ = observe_async!("songs.process", work(), labels(queue = "songs"));
}
