use observe::observe_async;

async fn work() {}

fn main() {
    let name = "work";
    let _ = observe_async!(name, work());
}
