use observe::observe;

#[observe]
struct Event {
    id: u64,
}

fn main() {}
