use observe::observe;

#[observe(objective(name = "api", success = 99.9))]
fn success_only() {}

#[observe(objective(name = "api", latency = ("250ms", 99.0)))]
fn latency_only() {}

#[observe(
    metric = "checkout",
    labels(tier = "gold"),
    objective(name = "checkout", success = 99, latency = ("1.5s", 95.5)),
    track_concurrency
)]
async fn both() -> Result<(), String> {
    Ok(())
}

#[observe(track_concurrency, objective(latency = ("500us", 99.99), name = "fast"))]
fn microseconds() {}

#[observe(track_concurrency, objective(name = "µ", latency = ("2µs", 50)))]
fn micro_sign() {}

async fn work() -> u32 {
    7
}

fn main() {
    success_only();
    latency_only();
    microseconds();
    micro_sign();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let _ = both().await;
        let task = observe::observe_async!(
            "jobs.work",
            work(),
            metric = "jobs",
            track_concurrency,
            objective(name = "jobs", success = 99.5),
        );
        assert_eq!(task.await, 7);
    });
}
