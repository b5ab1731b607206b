use observe::observe_async;

fn main() {
    let _ = observe_async!();
}
