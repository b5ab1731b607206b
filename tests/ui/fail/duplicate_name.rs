use observe::observe;

#[observe("db.save", name = "db.store")]
fn save() {}

fn main() {}
