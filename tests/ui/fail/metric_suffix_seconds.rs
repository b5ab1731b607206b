use observe::observe;

#[observe(metric = "db_latency_seconds")]
fn save() {}

fn main() {}
