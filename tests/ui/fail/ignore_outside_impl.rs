use observe::observe;

#[observe(ignore)]
fn alone() {}

struct Db;

impl Db {
    #[observe(ignore, metric = "db")]
    fn get(&self) {}
}

fn main() {}
