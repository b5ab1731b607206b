use observe::observe;

#[observe(objective(name = "api", latency = "250ms"))]
fn no_percent() {}

fn main() {}
