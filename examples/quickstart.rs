//! A small observed service: a song catalogue whose store calls are `#[observe]`d.
//!
//! ```sh
//! cargo run --example quickstart
//! OBSERVE_LOG_FORMAT=json cargo run --example quickstart
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run --example quickstart
//! ```
//!
//! It handles a few requests (some fail), logs every span with its context, serves
//! `/metrics` on `OBSERVE_METRICS_ADDR` (127.0.0.1:9464 unless set) for a few seconds, and
//! prints the metrics it derived.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use observe::observe;
use observe::runtime::config::Config;

#[derive(Debug)]
struct Song {
    title: String,
    artist: String,
}

#[derive(Default)]
struct Catalogue {
    songs: Mutex<HashMap<u64, Song>>,
}

impl Catalogue {
    #[observe(
        metric = "db_event",
        labels(event_table = "songs", event_type = "insert"),
        otel_kind = "client",
        skip(self, song),
        err
    )]
    fn insert(&self, id: u64, song: Song) -> Result<(), String> {
        if song.title.is_empty() {
            return Err(format!("song {id} has no title"));
        }
        tracing::debug!(title = %song.title, "storing");
        self.songs.lock().unwrap().insert(id, song);
        Ok(())
    }

    #[observe(
        metric = "db_event",
        labels(event_table = "songs", event_type = "select"),
        otel_kind = "client",
        skip(self)
    )]
    fn get(&self, id: u64) -> Option<String> {
        let songs = self.songs.lock().unwrap();
        songs
            .get(&id)
            .map(|s| format!("{} by {}", s.title, s.artist))
    }
}

#[observe(otel_kind = "server", skip(catalogue))]
fn handle(catalogue: &Catalogue, request_id: u64, title: &str) -> Result<String, String> {
    catalogue.insert(
        request_id,
        Song {
            title: title.into(),
            artist: "The Observers".into(),
        },
    )?;
    let song = catalogue.get(request_id).ok_or("vanished")?;
    tracing::info!(%song, "stored");
    Ok(song)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::new();
    if std::env::var_os("OBSERVE_METRICS_ADDR").is_none() {
        config = config.metrics_addr("127.0.0.1:9464");
    }
    let guard = config.init()?;

    let catalogue = Catalogue::default();
    for (request_id, title) in [(1, "Blue"), (2, ""), (3, "Red"), (4, "Green"), (5, "")] {
        let _ = handle(&catalogue, request_id, title);
    }

    if let Some(addr) = guard.metrics_addr() {
        eprintln!(
            "serving http://{addr}/metrics for 3 seconds; try: curl -s http://{addr}/metrics"
        );
        std::thread::sleep(Duration::from_secs(3));
    }
    eprintln!("--- derived metrics ---");
    for line in guard.metrics_text().lines() {
        if line.starts_with("db_event_total") || line.starts_with("function_calls_total") {
            eprintln!("{line}");
        }
    }
    Ok(())
}
