//! The OTel pipeline against a real OTLP receiver (gRPC and HTTP/protobuf) on 127.0.0.1.

use std::time::{Duration, Instant};

use observe_runtime::config::{Config, Protocol, TraceExport};
use observe_runtime::otel::OtelPipeline;
use observe_testkit::otlp::{ReceivedSpan, Receiver};
use tracing_subscriber::layer::SubscriberExt;

const TOKEN: &str = "Bearer test-token-123";

fn receiver(protocol: Protocol) -> Receiver {
    match protocol {
        Protocol::Grpc => Receiver::start_grpc(),
        Protocol::HttpProtobuf => Receiver::start_http(),
    }
}

fn settings(endpoint: &str, protocol: Protocol) -> TraceExport {
    Config::new()
        .otlp_endpoint(endpoint)
        .otlp_protocol(protocol)
        .otlp_header("authorization", TOKEN)
        .otlp_header("x-percent", "100%41")
        .otlp_timeout(Duration::from_secs(2))
        .service_name("otel-test")
        .resource_attribute("deployment.environment.name", "test")
        .resolve_with(|_| None, "unused")
        .unwrap()
        .traces
        .unwrap()
}

fn by_name<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "exactly one span {name:?} in {spans:#?}");
    found[0]
}

fn scenario(protocol: Protocol) {
    let receiver = receiver(protocol);
    let mut pipeline = OtelPipeline::start(&settings(&receiver.endpoint(), protocol)).unwrap();
    let subscriber = tracing_subscriber::registry().with(pipeline.layer());
    tracing::subscriber::with_default(subscriber, || {
        let parent = tracing::info_span!("parent", otel.kind = "server");
        parent.in_scope(|| {
            let child = tracing::info_span!("child", otel.kind = "client", db.table = "events");
            child.in_scope(|| tracing::info!("inside child"));
        });
        drop(parent);

        tracing::info_span!("failing").in_scope(|| tracing::error!("boom"));

        let marked = tracing::info_span!("marked", otel.status_code = tracing::field::Empty);
        marked.record("otel.status_code", "ERROR");
        drop(marked);

        let origin = tracing::info_span!("origin");
        let follower = tracing::info_span!(parent: None, "follower");
        follower.follows_from(&origin);
        drop(follower);
        drop(origin);
    });
    pipeline.shutdown(Duration::from_secs(10)).unwrap();

    // Shutdown flushed: everything is there without waiting.
    let spans = receiver.spans();
    assert_eq!(spans.len(), 6, "{spans:#?}");
    for span in &spans {
        assert_eq!(span.resource["service.name"], "otel-test");
        assert_eq!(span.resource["deployment.environment.name"], "test");
        assert_eq!(span.resource["telemetry.sdk.language"], "rust");
        assert_eq!(span.scope, "observe");
        assert_eq!(span.trace_id.len(), 32);
        assert_eq!(span.span_id.len(), 16);
    }

    let parent = by_name(&spans, "parent");
    let child = by_name(&spans, "child");
    assert_eq!(parent.kind, "server");
    assert_eq!(parent.parent_span_id, "");
    assert_eq!(child.kind, "client");
    assert_eq!(child.parent_span_id, parent.span_id);
    assert_eq!(child.trace_id, parent.trace_id);
    assert_eq!(child.attributes["db.table"], "events");
    assert_eq!(child.events, ["inside child"]);
    assert_eq!(parent.status, "unset");

    assert_eq!(by_name(&spans, "failing").status, "error");
    assert_eq!(by_name(&spans, "marked").status, "error");
    assert_eq!(by_name(&spans, "marked").kind, "internal");

    let origin = by_name(&spans, "origin");
    let follower = by_name(&spans, "follower");
    assert_eq!(follower.parent_span_id, "");
    assert_ne!(follower.trace_id, origin.trace_id, "a new root");
    assert_eq!(
        follower.links,
        [(origin.trace_id.clone(), origin.span_id.clone())]
    );

    // Headers arrived, percent-decoded once (not twice).
    assert!(
        receiver
            .header_values("authorization")
            .iter()
            .all(|v| v == TOKEN)
    );
    assert!(!receiver.header_values("authorization").is_empty());
    assert!(
        receiver
            .header_values("x-percent")
            .iter()
            .all(|v| v == "100%41")
    );
    assert!(!receiver.header_values("x-percent").is_empty());
}

#[test]
fn grpc_exports_kinds_status_links_resource_headers() {
    scenario(Protocol::Grpc);
}

#[test]
fn http_exports_kinds_status_links_resource_headers() {
    scenario(Protocol::HttpProtobuf);
}

const MANY: usize = 1_000;

/// Creates `MANY` spans and shuts down from the calling context, asserting all arrive in a
/// bounded time.
fn many_spans_then_shutdown(protocol: Protocol) {
    let receiver = receiver(protocol);
    let mut pipeline = OtelPipeline::start(&settings(&receiver.endpoint(), protocol)).unwrap();
    let subscriber = tracing_subscriber::registry().with(pipeline.layer());
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..MANY {
            tracing::info_span!("unit", i).in_scope(|| {});
        }
    });
    let started = Instant::now();
    pipeline.shutdown(Duration::from_secs(10)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let spans = receiver.spans();
    assert_eq!(spans.len(), MANY);
    let mut seen: Vec<usize> = spans
        .iter()
        .map(|s| s.attributes["i"].parse().unwrap())
        .collect();
    seen.sort_unstable();
    assert!(seen.iter().copied().eq(0..MANY));
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_inside_current_thread_runtime_grpc() {
    many_spans_then_shutdown(Protocol::Grpc);
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_inside_current_thread_runtime_http() {
    many_spans_then_shutdown(Protocol::HttpProtobuf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_inside_multi_thread_runtime_grpc() {
    many_spans_then_shutdown(Protocol::Grpc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_inside_multi_thread_runtime_http() {
    many_spans_then_shutdown(Protocol::HttpProtobuf);
}

#[test]
fn shutdown_without_runtime_grpc() {
    many_spans_then_shutdown(Protocol::Grpc);
}

#[test]
fn shutdown_without_runtime_http() {
    many_spans_then_shutdown(Protocol::HttpProtobuf);
}

#[tokio::test(flavor = "current_thread")]
async fn drop_without_shutdown_exports_pending_spans() {
    let receiver = Receiver::start_http();
    let pipeline =
        OtelPipeline::start(&settings(&receiver.endpoint(), Protocol::HttpProtobuf)).unwrap();
    let subscriber = tracing_subscriber::registry().with(pipeline.layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("dropped").in_scope(|| {});
    });
    drop(pipeline);
    assert_eq!(receiver.spans().len(), 1);
}

/// A port with nothing listening on it.
fn closed_port_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn collector_down(protocol: Protocol) {
    let started = Instant::now();
    let mut pipeline = OtelPipeline::start(&settings(&closed_port_endpoint(), protocol)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "start blocked");

    let subscriber = tracing_subscriber::registry().with(pipeline.layer());
    let started = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..100 {
            tracing::info_span!("unsent", i).in_scope(|| tracing::error!("lost"));
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "span creation blocked"
    );

    // Shutdown is bounded by its timeout even though every export fails.
    let started = Instant::now();
    let _ = pipeline.shutdown(Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown not bounded"
    );
}

#[test]
fn collector_down_blocks_nothing_grpc() {
    collector_down(Protocol::Grpc);
}

#[test]
fn collector_down_blocks_nothing_http() {
    collector_down(Protocol::HttpProtobuf);
}

#[test]
fn https_without_tls_is_a_clear_error() {
    let err =
        OtelPipeline::start(&settings("https://127.0.0.1:1", Protocol::HttpProtobuf)).unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
}

#[test]
fn installs_w3c_propagator() {
    let receiver = Receiver::start_http();
    let _pipeline =
        OtelPipeline::start(&settings(&receiver.endpoint(), Protocol::HttpProtobuf)).unwrap();
    let fields: Vec<String> =
        opentelemetry::global::get_text_map_propagator(|p| p.fields().map(String::from).collect());
    assert!(fields.contains(&"traceparent".to_string()), "{fields:?}");
}
