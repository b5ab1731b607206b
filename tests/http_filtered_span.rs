//! A request whose server span every filter leaves out (`RUST_LOG=warn`, no trace export:
//! the span is `info`) still continues its caller's trace: the handler's spans are the
//! caller's span's children, and what the handler propagates is in the caller's trace.

use axum::Router;
use axum::routing::get;
use observe::observe;
use observe::runtime::Signals;
use observe::runtime::filter::SignalFilter;
use observe::runtime::http::ObserveLayer;
use observe::runtime::log::LogOutput;
use observe::runtime::log::writer::MemorySink;
use observe::runtime::metrics::{Metrics, MetricsConfig};
use observe::runtime::propagation::TraceContext;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tracing_subscriber::layer::SubscriberExt as _;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";

/// An outgoing call, counted by the metrics filter: what it would propagate.
#[observe(otel_kind = "client")]
async fn call_vendor() -> Option<String> {
    TraceContext::current().map(|cx| cx.traceparent())
}

/// What the handler propagates itself, outside any span of its own, then from a span the
/// metrics filter takes.
async fn handler() -> String {
    let direct = TraceContext::current().map(|cx| cx.traceparent());
    let from_span = call_vendor().await;
    format!(
        "{}\n{}",
        direct.unwrap_or_default(),
        from_span.unwrap_or_default()
    )
}

#[test]
fn a_filtered_out_request_span_keeps_the_callers_trace() {
    let logs = MemorySink::new();
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    let signals = Signals::builder()
        .logs(
            LogOutput::new(logs.clone()),
            SignalFilter::new("warn").unwrap(),
        )
        .metrics(&metrics, SignalFilter::all())
        .filter_subscriber()
        .build();
    let subscriber = tracing_subscriber::registry().with(signals);
    let app = Router::new()
        .route("/", get(handler))
        .layer(ObserveLayer::new());
    let body = tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "GET / HTTP/1.1\r\nHost: {addr}\r\ntraceparent: 00-{TRACE}-{CALLER}-01\r\n\
                 Connection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            let (head, body) = response.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            body.to_owned()
        })
    });
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    // Outside any recorded span, the caller's context passes through unchanged.
    assert_eq!(lines[0], format!("00-{TRACE}-{CALLER}-01"));
    // The client span is a child of the caller's span, in the caller's trace.
    let parts: Vec<&str> = lines[1].split('-').collect();
    assert_eq!(parts[1], TRACE, "{body}");
    assert_ne!(parts[2], CALLER, "the client span's own id");
    assert!(
        logs.lines().is_empty(),
        "nothing at warn: {:?}",
        logs.lines()
    );
    assert!(
        metrics.render().contains("call_vendor"),
        "the client call is counted"
    );
}
