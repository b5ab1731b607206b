use observe::observe;

#[observe]
fn plain() {}

#[observe(metric = "db_event", labels(table = "events"), otel_kind = "client", err, ret)]
fn fallible(n: u32) -> Result<u32, std::num::TryFromIntError> {
    let small: u8 = u8::try_from(n)?;
    if small == 0 {
        return Ok(0);
    }
    Ok(u32::from(small) * 2)
}

fn main() {
    plain();
    let _ = fallible(3);
}
