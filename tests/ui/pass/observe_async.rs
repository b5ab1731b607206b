use observe::observe_async;

async fn process(n: u32) -> Result<u32, String> {
    Ok(n)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let a = observe_async!("songs.process", process(1));
        let b = observe_async!(
            "songs.process",
            process(2),
            metric = "songs_process",
            labels(queue = "songs", n = %2),
            otel_kind = "consumer",
            fields(attempt = 1u32, note),
            level = "debug",
            target = "songs",
        );
        let _ = a.await;
        let _ = tokio::spawn(b).await;
    });
}
