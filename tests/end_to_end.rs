//! One run of `#[observe]`-annotated code through `init()`, checking all three outputs:
//! the log lines (parsed back), the Prometheus exposition, and the spans a real OTLP
//! receiver decoded — and that they agree on trace ids.
//!
//! `init` installs process-global state, so this file holds a single test.

use std::collections::HashMap;
use std::time::Duration;

use observe::runtime::config::Config;
use observe::runtime::log::writer::MemorySink;
use observe::{observe, observe_async};
use observe_testkit::logfmt::parse_lines;
use observe_testkit::otlp::Receiver;

struct Repository {
    table: &'static str,
}

impl Repository {
    #[observe(metric = "db_event", labels(event_table = self.table, event_type = %kind), otel_kind = "client", skip(self), err)]
    fn save(&self, kind: &str, fail: bool) -> Result<u64, String> {
        tracing::info!(bytes = 42_u64, "writing");
        if fail {
            return Err(format!("{kind} rejected"));
        }
        Ok(7)
    }
}

#[observe(otel_kind = "server", skip(repository, request_id), fields(request_id = request_id))]
async fn handle(repository: &Repository, request_id: &str, fail: bool) -> Result<u64, String> {
    let id = repository.save("song", fail)?;
    tokio::spawn(observe_async!("vendor.lookup", async {
        tracing::info!("looking up vendor")
    }))
    .await
    .unwrap();
    Ok(id)
}

#[observe]
fn explode() {
    panic!("boom");
}

type Line = Vec<(String, String)>;

fn value<'a>(line: &'a Line, key: &str) -> Option<&'a str> {
    line.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn logs_metrics_and_traces_from_one_run_agree() {
    let receiver = Receiver::start_http();
    let logs = MemorySink::default();
    let guard = Config::new()
        .service_name("e2e")
        .log_writer(logs.clone())
        .otlp_endpoint(receiver.endpoint())
        .init()
        .expect("init");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let repository = Repository { table: "events" };
    runtime.block_on(async {
        assert_eq!(handle(&repository, "r-ok", false).await, Ok(7));
        assert!(handle(&repository, "r-err", true).await.is_err());
    });
    assert!(std::panic::catch_unwind(explode).is_err());

    let exposition = guard.metrics_text();
    drop(guard);

    // Metrics: exact counts per label set and result.
    for expected in [
        r#"db_event_total{event_table="events",event_type="song",result="ok"} 1"#,
        r#"db_event_total{event_table="events",event_type="song",result="error"} 1"#,
        r#"db_event_duration_seconds_count{event_table="events",event_type="song",result="ok"} 1"#,
        r#"function_calls_total{function="handle",module="end_to_end",result="ok"} 1"#,
        r#"function_calls_total{function="handle",module="end_to_end",result="error"} 1"#,
        r#"function_calls_total{function="explode",module="end_to_end",result="error"} 1"#,
    ] {
        assert!(
            exposition.lines().any(|l| l == expected),
            "missing {expected}\n{exposition}"
        );
    }

    // Traces: what the receiver decoded.
    let spans = receiver.wait_for_spans(6, Duration::from_secs(10));
    let by_name = |name: &str| -> Vec<_> { spans.iter().filter(|s| s.name == name).collect() };
    let (saves, handles, vendors) = (by_name("save"), by_name("handle"), by_name("vendor.lookup"));
    // The failing request returns through `?` before it spawns its vendor look-up.
    assert_eq!(
        (saves.len(), handles.len(), vendors.len()),
        (2, 2, 1),
        "{spans:#?}"
    );
    assert_eq!(spans.len(), 6);
    assert_eq!(by_name("explode")[0].status, "error");
    for span in &spans {
        assert_eq!(
            span.resource.get("service.name").map(String::as_str),
            Some("e2e")
        );
    }
    for (save, handle) in saves.iter().zip(&handles) {
        assert_eq!(handle.kind, "server");
        assert_eq!(save.kind, "client");
        assert_eq!(save.parent_span_id, handle.span_id);
        assert_eq!(save.trace_id, handle.trace_id);
    }
    let failed = saves
        .iter()
        .find(|s| s.status == "error")
        .expect("a failed save");
    assert_eq!(
        failed.attributes.get("observe.result").map(String::as_str),
        Some("error")
    );
    assert_eq!(
        failed.status_message, "song rejected",
        "the err event's error"
    );
    assert_eq!(failed.events, ["exception"]);
    for vendor in &vendors {
        assert!(
            vendor.parent_span_id.is_empty(),
            "observe_async! starts a root span"
        );
        let handle = handles
            .iter()
            .find(|h| h.trace_id == vendor.links[0].0)
            .expect("linked");
        assert_eq!(
            vendor.links,
            vec![(handle.trace_id.clone(), handle.span_id.clone())]
        );
        assert_ne!(vendor.trace_id, handle.trace_id);
    }

    // Logs: every line parses, and every line of a span carries the exported trace id.
    let lines: Vec<Line> =
        parse_lines(&String::from_utf8(logs.contents()).unwrap()).expect("strict logfmt");
    let exported: HashMap<&str, &str> = spans
        .iter()
        .map(|s| (s.span_id.as_str(), s.trace_id.as_str()))
        .collect();
    let mut checked = 0;
    for line in &lines {
        if let (Some(span), Some(trace_id)) = (value(line, "span"), value(line, "trace_id")) {
            assert_eq!(exported.get(span).copied(), Some(trace_id), "{line:?}");
            checked += 1;
        }
    }
    let closes = lines
        .iter()
        .filter(|l| value(l, "span_event") == Some("close_span"))
        .count();
    assert_eq!(closes, 6, "one close line per span");
    assert!(
        checked >= 6 * 2 + 4,
        "span and event lines all carry ids: {checked}"
    );
    let writing = lines
        .iter()
        .find(|l| value(l, "msg") == Some("writing") && value(l, "request_id") == Some("r-err"))
        .expect("the event inherits request_id from the server span");
    assert_eq!(value(writing, "bytes"), Some("42"));
}
