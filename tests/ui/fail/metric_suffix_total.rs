use observe::observe;

#[observe(metric = "db_event_total")]
fn save() {}

fn main() {}
