//! Shared by the `http_*` integration tests: a real axum server behind `ObserveLayer`, and
//! readers for the log lines and the exposition. The tests call it with the raw HTTP/1.1
//! client of `observe_testkit::http`.
//!
//! Each test binary installs one global subscriber and one global metrics recorder (the
//! server runs on tokio worker threads, which a thread-local default would not reach), so
//! tests tell their requests apart by route, request id or trace id.
#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing;
use observe_runtime::http::{ObserveLayer, inject_trace_context};
use observe_runtime::log::writer::MemorySink;
use observe_runtime::metrics::{Metrics, MetricsConfig};
use observe_testkit::logfmt::parse_line;

/// A secret planted in every credential header; it must appear in no output.
pub(crate) const SECRET: &str = "s3cr3t-SHOULD-NEVER-APPEAR";

/// The routes every test server has. `/trusted/...` is behind a layer that trusts
/// `x-forwarded-for`; the rest are behind the default one.
pub(crate) fn app() -> Router {
    let default = Router::new()
        .route("/users/{id}", routing::get(user))
        .route("/status/{code}", routing::get(status))
        .route("/secret", routing::get(secret))
        .route("/slow", routing::get(slow))
        .route("/outgoing", routing::get(outgoing))
        .route("/metrics-test/{id}", routing::get(user))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(ObserveLayer::new());
    let trusted = Router::new()
        .route("/trusted/ip", routing::get(|| async { "ok" }))
        .layer(ObserveLayer::new().trust_forwarded_for(true));
    default.merge(trusted)
}

async fn user(Path(id): Path<String>) -> String {
    tracing::info!(user = %id, "loading user");
    format!("user {id}")
}

async fn status(Path(code): Path<u16>) -> impl IntoResponse {
    (StatusCode::from_u16(code).unwrap(), "status")
}

async fn secret() -> impl IntoResponse {
    (
        [(header::SET_COOKIE, format!("session={SECRET}"))],
        "you have a cookie",
    )
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "late"
}

/// Answers with the `traceparent` it would send to a service it calls.
async fn outgoing() -> String {
    let mut headers = HeaderMap::new();
    inject_trace_context(&mut headers);
    headers
        .get("traceparent")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The server, on a runtime of its own; lives for the whole test binary.
pub(crate) struct Server {
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

pub(crate) fn serve() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        axum::serve(
            listener,
            app().into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        addr,
        _runtime: runtime,
    }
}

pub(crate) fn metrics() -> Metrics {
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    metrics.install_global().unwrap();
    metrics
}

/// One parsed log line.
pub(crate) type Line = Vec<(String, String)>;

pub(crate) fn value<'a>(line: &'a Line, key: &str) -> Option<&'a str> {
    line.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Every log line written so far that carries `request_id = id` (the span's own lines and
/// the events inside it, which inherit the field).
pub(crate) fn lines_of(sink: &MemorySink, id: &str) -> Vec<Line> {
    sink.lines()
        .iter()
        .map(|line| parse_line(line).unwrap_or_else(|e| panic!("{e:?}: {line}")))
        .filter(|line| value(line, "request_id") == Some(id))
        .collect()
}

/// The request span's `new_span` and `close_span` lines.
pub(crate) fn span_lines(sink: &MemorySink, id: &str) -> (Line, Line) {
    let lines = lines_of(sink, id);
    let of = |event: &str| {
        let found: Vec<_> = lines
            .iter()
            .filter(|l| {
                value(l, "otel.kind") == Some("server") && value(l, "span_event") == Some(event)
            })
            .collect();
        assert_eq!(found.len(), 1, "one {event} line for {id}: {lines:#?}");
        found[0].clone()
    };
    (of("new_span"), of("close_span"))
}

/// The value of one series in a Prometheus exposition, e.g.
/// `series(&text, "x_bucket", r#"a="b",le="+Inf""#)`.
pub(crate) fn series(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.parse().unwrap())
}
