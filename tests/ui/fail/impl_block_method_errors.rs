use observe::observe;

struct Db;

#[observe(metric = "db")]
impl Db {
    // A `const fn` that asks for #[observe] itself.
    #[observe(level = "debug")]
    const fn version() -> u32 {
        1
    }

    // The method's own options are checked as usual.
    #[observe(labels(le = "x"), skip(nothing))]
    fn get(&self, _key: u32) {}

    #[observe]
    #[observe(level = "debug")]
    fn put(&self) {}

    // With the block's `metric`, `function` is an ordinary label here.
    #[observe(labels(function = "get"))]
    fn fine(&self) {}
}

fn main() {}
