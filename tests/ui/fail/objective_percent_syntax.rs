use observe::observe;

#[observe(objective(name = "api", success = "99.9"))]
fn quoted() {}

fn main() {}
