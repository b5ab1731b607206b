use observe::observe;

#[observe(metric = "db-event")]
fn save() {}

fn main() {}
