use observe::observe;

#[observe]
const fn answer() -> u32 {
    42
}

fn main() {}
