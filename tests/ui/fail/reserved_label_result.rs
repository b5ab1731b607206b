use observe::observe;

#[observe(metric = "db_event", labels(result = "ok"))]
fn save() {}

fn main() {}
