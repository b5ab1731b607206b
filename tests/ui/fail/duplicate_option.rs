use observe::observe;

#[observe(metric = "a", level = "debug", metric = "b")]
fn save() {}

fn main() {}
