use observe::observe;

#[observe(name = "db.save", "db.store")]
fn save() {}

fn main() {}
