use observe::observe_async;

async fn work() -> Result<(), String> {
    Ok(())
}

fn main() {
    let _ = observe_async!("songs.process", work(), err);
}
