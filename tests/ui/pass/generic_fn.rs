use observe::observe;
use std::fmt::Debug;

#[observe(fields(len = items.len()))]
fn first<T: Clone + Debug>(items: &[T]) -> Option<T> {
    items.first().cloned()
}

#[observe(err)]
fn parse<T>(s: &str) -> Result<T, T::Err>
where
    T: std::str::FromStr + Debug,
    T::Err: std::fmt::Display,
{
    s.parse()
}

fn main() {
    let _ = first(&[1, 2, 3]);
    let _ = parse::<u32>("5");
}
