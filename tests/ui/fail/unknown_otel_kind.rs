use observe::observe;

#[observe(otel_kind = "rpc")]
fn call() {}

fn main() {}
