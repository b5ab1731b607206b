use observe::observe;

struct Db;

#[observe("db.op")]
impl Db {
    fn get(&self) {}
}

struct Cache;

#[observe(ignore)]
impl Cache {
    fn get(&self) {}
}

struct Queue;

#[observe(skip(itme))]
impl Queue {
    fn push(&self, item: u32) {
        let _ = item;
    }
}

fn main() {}
