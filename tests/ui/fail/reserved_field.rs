use observe::observe;

#[observe(fields(metric_name = "db_event"))]
fn save() {}

fn main() {}
