use observe::observe;

pub struct Repo {
    table: String,
}

impl Repo {
    #[observe(metric = "repo_open", labels(table = table))]
    pub fn open(table: &str) -> Self {
        Repo { table: table.to_owned() }
    }

    #[observe(skip_all)]
    pub fn default() -> Self {
        Self::open("default")
    }
}

fn main() {
    let _ = Repo::open("events").table;
    let _ = Repo::default();
}
