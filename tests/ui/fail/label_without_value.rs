use observe::observe;

#[observe(metric = "db_event", labels(table))]
fn save(table: &str) {
    let _ = table;
}

fn main() {}
