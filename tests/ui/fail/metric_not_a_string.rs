use observe::observe;

#[observe(metric = db_event)]
fn save() {}

fn main() {}
