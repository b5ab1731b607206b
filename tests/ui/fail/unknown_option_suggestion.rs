use observe::observe;

#[observe(metrics = "db_event")]
fn save() {}

fn main() {}
