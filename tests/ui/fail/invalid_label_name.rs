use observe::observe;

#[observe(metric = "db_event", labels("event-table" = "events"))]
fn save() {}

fn main() {}
