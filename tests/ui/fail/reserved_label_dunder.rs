use observe::observe;

#[observe(metric = "db_event", labels(__name__ = "x"))]
fn save() {}

fn main() {}
