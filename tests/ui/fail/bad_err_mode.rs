use observe::observe;

#[observe(err(Pretty))]
fn save() -> Result<(), String> {
    Ok(())
}

fn main() {}
