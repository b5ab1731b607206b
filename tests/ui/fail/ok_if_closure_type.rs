use observe::observe;

#[observe(ok_if = |r: &u32| *r == 0)]
fn get(id: u32) -> Result<u32, String> {
    Ok(id)
}

fn main() {}
