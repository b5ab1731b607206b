//! `ObserveLayer` with trace export off (logs and metrics only): the caller's trace is
//! still continued in the log lines, and `inject_trace_context` propagates it.

#![cfg(feature = "http")]

mod http_support;

use std::sync::OnceLock;

use http_support::*;
use observe_runtime::Signals;
use observe_runtime::filter::SignalFilter;
use observe_runtime::log::LogOutput;
use observe_runtime::log::writer::MemorySink;
use observe_runtime::metrics::Metrics;
use observe_testkit::http::get;
use tracing_subscriber::layer::SubscriberExt;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

struct Harness {
    sink: MemorySink,
    metrics: Metrics,
    server: Server,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let sink = MemorySink::new();
        let metrics = metrics();
        let subscriber = tracing_subscriber::registry().with(
            Signals::builder()
                .logs(
                    LogOutput::new(sink.clone()),
                    SignalFilter::new("info").unwrap(),
                )
                .metrics(&metrics, SignalFilter::all())
                .build(),
        );
        tracing::subscriber::set_global_default(subscriber).unwrap();
        Harness {
            sink,
            metrics,
            server: serve(),
        }
    })
}

#[test]
fn the_callers_trace_id_is_continued_in_the_logs() {
    let h = harness();
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let reply = get(
        h.server.addr,
        "/users/1",
        &[
            ("traceparent", traceparent.as_bytes()),
            ("x-request-id", b"plain-tp"),
        ],
    );
    assert_eq!(reply.status, 200);
    let lines = lines_of(&h.sink, "plain-tp");
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for line in &lines {
        assert_eq!(value(line, "trace_id"), Some(TRACE_ID), "{line:?}");
    }
    let (open, close) = span_lines(&h.sink, "plain-tp");
    assert_eq!(value(&open, "parent_span"), Some(PARENT_ID));
    assert_eq!(value(&open, "otel.name"), Some("GET /users/{id}"));
    assert_eq!(value(&close, "http.response.status_code"), Some("200"));
}

#[test]
fn without_a_traceparent_each_request_is_a_new_trace() {
    let h = harness();
    for id in ["plain-new-1", "plain-new-2"] {
        get(
            h.server.addr,
            "/users/2",
            &[
                ("traceparent", b"not-a-traceparent"),
                ("x-request-id", id.as_bytes()),
            ],
        );
    }
    let (first, _) = span_lines(&h.sink, "plain-new-1");
    let (second, _) = span_lines(&h.sink, "plain-new-2");
    let first = value(&first, "trace_id").unwrap();
    assert_eq!(first.len(), 32);
    assert_ne!(first, TRACE_ID);
    assert_ne!(Some(first), value(&second, "trace_id"));
    assert_eq!(
        value(&span_lines(&h.sink, "plain-new-1").0, "parent_span"),
        None
    );
}

#[test]
fn the_trace_is_injected_without_export() {
    let h = harness();
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let reply = get(
        h.server.addr,
        "/outgoing",
        &[
            ("traceparent", traceparent.as_bytes()),
            ("x-request-id", b"plain-outgoing"),
        ],
    );
    assert_eq!(reply.status, 200);
    let (open, _) = span_lines(&h.sink, "plain-outgoing");
    let server_span = value(&open, "span").unwrap();
    assert_eq!(
        reply.body,
        format!("00-{TRACE_ID}-{server_span}-01"),
        "the outgoing call continues the server span, with the ids of the log lines"
    );
}

#[test]
fn metrics_are_recorded_without_export() {
    let h = harness();
    get(
        h.server.addr,
        "/status/502",
        &[("x-request-id", b"plain-502")],
    );
    let (_, close) = span_lines(&h.sink, "plain-502");
    assert_eq!(value(&close, "observe.result"), Some("error"));
    let text = h.metrics.render();
    assert_eq!(
        series(
            &text,
            "http_server_request_duration_seconds_count",
            r#"http_request_method="GET",http_route="/status/{code}",http_response_status_code="502""#
        ),
        Some(1.0),
        "{text}"
    );
}
