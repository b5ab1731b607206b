use observe::observe;

#[observe(error_if = |r| r.as_ref().ok().copied())]
fn get(id: u32) -> Result<u32, String> {
    Ok(id)
}

#[observe(error_if = 5)]
async fn count() -> u32 {
    5
}

fn main() {}
