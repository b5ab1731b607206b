use observe::observe;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[observe(ok_if = is_zero)]
fn get(id: u32) -> Result<u32, String> {
    Ok(id)
}

fn main() {}
