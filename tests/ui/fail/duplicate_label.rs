use observe::observe;

#[observe(metric = "db_event", labels(table = table, table = "events"))]
fn save(table: &str) {
    let _ = table;
}

fn main() {}
