//! `#[observe("name")]` names the span as `#[instrument("name")]` does, alone or with other
//! options on either side.
use observe::observe;

#[observe("db.save")]
fn save(n: u32) -> u32 {
    n
}

#[observe("db.load", metric = "db_load", err)]
fn load(key: &str) -> Result<usize, String> {
    Ok(key.len())
}

#[observe(level = "debug", "db.scan",)]
async fn scan() {}

fn main() {
    save(1);
    load("k").unwrap();
    drop(scan());
}
