use observe::observe;

struct Db {
    table: String,
}

#[observe(metric = "db", labels(table = self.table.as_str()), fields(owner = ?self.table))]
impl Db {
    fn get(&self) {}

    fn open(table: String) -> Self {
        Db { table }
    }

    // Its own label replaces the block's: only `owner` is left to complain about.
    #[observe(labels(table = "t"))]
    fn create() -> Self {
        Db { table: String::new() }
    }
}

fn main() {}
