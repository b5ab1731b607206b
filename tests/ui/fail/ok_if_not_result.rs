use observe::observe;

#[observe(ok_if = |n| *n == 0)]
fn count(n: u32) -> u32 {
    n
}

fn main() {}
