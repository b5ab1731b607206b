//! The outcome `#[observe]` records, as a user sees it through `init()` with
//! `RUST_LOG=info`: the Prometheus `result` label and the span a real OTLP receiver
//! decoded.
//!
//! - `Backend::get` calls `Cache::get` (same name, same module, `level = "debug"`, so its
//!   span is filtered out by every signal: `RUST_LOG`, `OBSERVE_METRICS_FILTER` and
//!   `OBSERVE_TRACES_FILTER` all `info`); the inner `Err` is handled, and the outer call
//!   counts as `ok`.
//! - A failing `#[observe(err)]` call exports status Error with the error's message (the
//!   `err` event's `error`) as the status description.
//! - A panic counts as `error` and exports `observe.result = "panic"` with status Error.
//!
//! `init` installs process-global state, so this file holds a single test.

use std::time::Duration;

use observe::observe;
use observe::runtime::config::Config;
use observe::runtime::log::writer::MemorySink;
use observe_testkit::otlp::Receiver;

#[derive(Debug)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such key")
    }
}

struct Cache;

struct Backend {
    cache: Cache,
}

impl Cache {
    #[observe(level = "debug")]
    fn get(&self, key: &str) -> Result<u32, Failure> {
        if key.is_empty() { Err(Failure) } else { Ok(1) }
    }
}

impl Backend {
    #[observe]
    fn get(&self, key: &str) -> Result<u32, Failure> {
        Ok(self.cache.get(key).unwrap_or(0))
    }
}

#[observe(metric = "lookup", err)]
fn lookup(key: &str) -> Result<u32, Failure> {
    if key.is_empty() { Err(Failure) } else { Ok(2) }
}

#[observe(metric = "explode")]
fn explode() {
    panic!("boom");
}

#[test]
fn outcomes_as_exported() {
    let receiver = Receiver::start_http();
    let guard = Config::new()
        .service_name("outcome")
        .log_filter("info")
        .metrics_filter("info")
        .traces_filter("info")
        .log_writer(MemorySink::default())
        .otlp_endpoint(receiver.endpoint())
        .init()
        .expect("init");

    let backend = Backend { cache: Cache };
    for _ in 0..3 {
        assert!(matches!(backend.get(""), Ok(0)));
    }
    assert!(lookup("").is_err());
    assert!(std::panic::catch_unwind(explode).is_err());

    let exposition = guard.metrics_text();
    drop(guard);

    for expected in [
        r#"function_calls_total{function="get",module="outcome_end_to_end",result="ok"} 3"#,
        r#"lookup_total{result="error"} 1"#,
        r#"explode_total{result="error"} 1"#,
    ] {
        assert!(
            exposition.lines().any(|l| l == expected),
            "missing {expected}\n{exposition}"
        );
    }
    // Made at 0 before the first call, and still 0.
    assert!(
        exposition.lines().any(|l| l
            == r#"function_calls_total{function="get",module="outcome_end_to_end",result="error"} 0"#),
        "the handled inner error marked the outer call\n{exposition}"
    );

    let spans = receiver.wait_for_spans(5, Duration::from_secs(10));
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let named = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
    for get in spans.iter().filter(|s| s.name == "get") {
        assert_eq!(get.status, "unset", "{get:#?}");
        assert_eq!(get.attributes.get("observe.result"), None, "{get:#?}");
    }
    let failed = named("lookup");
    assert_eq!(
        (failed.status, failed.status_message.as_str()),
        ("error", "no such key"),
        "{failed:#?}"
    );
    assert_eq!(
        failed.attributes.get("observe.result").map(String::as_str),
        Some("error")
    );
    let panicked = named("explode");
    assert_eq!(panicked.status, "error", "{panicked:#?}");
    assert_eq!(
        panicked
            .attributes
            .get("observe.result")
            .map(String::as_str),
        Some("panic")
    );
}
