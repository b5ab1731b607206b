use observe::observe;

trait Store {
    #[observe]
    fn put(&self);
}

fn main() {}
