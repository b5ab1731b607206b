use observe::observe;

#[observe(ok_if = |r| r.is_err(), error_if = |r| r.is_ok())]
fn get(id: u32) -> Result<u32, String> {
    Ok(id)
}

fn main() {}
