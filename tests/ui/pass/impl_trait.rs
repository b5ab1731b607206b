use observe::observe;

#[observe]
fn evens(n: u32) -> impl Iterator<Item = u32> {
    (0..n).filter(|x| x % 2 == 0)
}

#[observe(err)]
fn shown(fail: bool) -> Result<impl std::fmt::Display, String> {
    if fail {
        return Err("no".to_owned());
    }
    Ok(5)
}

fn takes(x: impl std::fmt::Debug) -> usize {
    format!("{x:?}").len()
}

#[observe]
fn arg_impl(x: impl std::fmt::Debug) -> usize {
    takes(x)
}

fn main() {
    let _ = evens(4).count();
    let _ = shown(false).map(|s| s.to_string());
    let _ = arg_impl(1);
}
