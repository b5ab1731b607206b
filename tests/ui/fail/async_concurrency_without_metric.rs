async fn work() {}

fn main() {
    let _ = observe::observe_async!("work", work(), track_concurrency, objective(name = "w", success = 99.0));
}
