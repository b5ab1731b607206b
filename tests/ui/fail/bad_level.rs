use observe::observe;

#[observe(level = "verbose")]
fn save() {}

fn main() {}
