use observe::observe;

#[observe(metric = "fetch", otel_kind = "client", err)]
async fn fetch(url: &str) -> Result<usize, String> {
    if url.is_empty() {
        return Err("empty".into());
    }
    let n: usize = url.len().checked_mul(2).ok_or("overflow")?;
    Ok(n)
}

#[observe]
async fn unit() {}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let _ = fetch("x").await;
        unit().await;
    });
}
