//! Trace export built on observe's records, against a real OTLP receiver (gRPC and
//! HTTP/protobuf) on 127.0.0.1: kinds, status, typed attributes, events, links, resource,
//! headers; the queue's drop count; failures counted and logged; shutdown on any runtime.

#![cfg(feature = "otlp")]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use observe_runtime::Signals;
use observe_runtime::config::{Config, Protocol, TraceExport};
use observe_runtime::filter::SignalFilter;
use observe_runtime::log::LogOutput;
use observe_runtime::log::writer::MemorySink;
use observe_runtime::trace::TracePipeline;
use observe_testkit::otlp::{ReceivedSpan, Receiver};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
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

/// A layer exporting every span (filter `trace`) through `pipeline`.
fn exporting(pipeline: &TracePipeline) -> Signals {
    Signals::builder()
        .traces(pipeline.sink(), SignalFilter::all())
        .build()
}

fn by_name<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "exactly one span {name:?} in {spans:#?}");
    found[0]
}

/// The raw OTLP spans the receiver got, for what the flattened view renders as text.
fn raw_spans(receiver: &Receiver) -> Vec<Span> {
    receiver
        .requests()
        .into_iter()
        .flat_map(|r| r.request.resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect()
}

fn attribute<'a>(span: &'a Span, key: &str) -> &'a Value {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .unwrap_or_else(|| panic!("no attribute {key} on {}", span.name))
}

fn scenario(protocol: Protocol) {
    let receiver = receiver(protocol);
    let mut pipeline = TracePipeline::start(&settings(&receiver.endpoint(), protocol)).unwrap();
    let subscriber = tracing_subscriber::registry().with(exporting(&pipeline));
    tracing::subscriber::with_default(subscriber, || {
        let parent = tracing::info_span!("parent", otel.kind = "server");
        parent.in_scope(|| {
            let child = tracing::info_span!("child", otel.kind = "client", db.table = "events");
            child.in_scope(|| {
                tracing::info!("an info event is no span event by default");
                tracing::warn!(rows = 3_u64, "inside child");
            });
        });
        drop(parent);

        let failing = tracing::info_span!("failing", observe.result = tracing::field::Empty);
        failing.in_scope(|| tracing::info!(error = "disk full", "save failed"));
        failing.record("observe.result", "error");
        drop(failing);

        let marked = tracing::info_span!("marked", otel.status_code = tracing::field::Empty);
        marked.record("otel.status_code", "ERROR");
        drop(marked);

        let panicked = tracing::info_span!("panicked", observe.result = tracing::field::Empty);
        panicked.record("observe.result", "panic");
        drop(panicked);

        let origin = tracing::info_span!("origin");
        let follower = tracing::info_span!(parent: None, "follower");
        follower.follows_from(&origin);
        drop(follower);
        drop(origin);

        tracing::info_span!(
            "typed",
            int = -3_i64,
            uint = 201_u64,
            double = 0.5_f64,
            flag = true,
            text = "songs",
            big = u64::MAX,
            otel.name = "typed span"
        )
        .in_scope(|| {});
    });
    pipeline.shutdown(Duration::from_secs(10)).unwrap();

    // Shutdown flushed: everything is there without waiting.
    let spans = receiver.spans();
    assert_eq!(spans.len(), 8, "{spans:#?}");
    for span in &spans {
        assert_eq!(span.resource["service.name"], "otel-test");
        assert_eq!(span.resource["deployment.environment.name"], "test");
        assert_eq!(span.resource["telemetry.sdk.language"], "rust");
        assert_eq!(span.scope, "observe");
        assert_eq!(span.trace_id.len(), 32);
        assert_eq!(span.span_id.len(), 16);
        assert!(
            !span.attributes.keys().any(|k| k.starts_with("otel.")),
            "{span:?}"
        );
    }

    let parent = by_name(&spans, "parent");
    let child = by_name(&spans, "child");
    assert_eq!(parent.kind, "server");
    assert_eq!(parent.parent_span_id, "");
    assert_eq!(child.kind, "client");
    assert_eq!(child.parent_span_id, parent.span_id);
    assert_eq!(child.trace_id, parent.trace_id);
    assert_eq!(child.attributes["db.table"], "events");
    assert_eq!(child.events, ["inside child"], "warn and up, by default");
    assert_eq!(parent.status, "unset");

    let failing = by_name(&spans, "failing");
    assert_eq!(failing.status, "error");
    assert_eq!(failing.status_message, "disk full");
    assert_eq!(
        failing.events,
        ["exception"],
        "an error event is kept at any level"
    );
    assert_eq!(by_name(&spans, "marked").status, "error");
    assert_eq!(by_name(&spans, "marked").kind, "internal");
    let panicked = by_name(&spans, "panicked");
    assert_eq!(
        (panicked.status, panicked.events.as_slice()),
        ("error", &["exception".to_owned()][..])
    );

    let origin = by_name(&spans, "origin");
    let follower = by_name(&spans, "follower");
    assert_eq!(follower.parent_span_id, "");
    assert_ne!(follower.trace_id, origin.trace_id, "a new root");
    assert_eq!(
        follower.links,
        [(origin.trace_id.clone(), origin.span_id.clone())]
    );

    let raw = raw_spans(&receiver);
    let typed = raw.iter().find(|s| s.name == "typed span").unwrap();
    assert_eq!(attribute(typed, "int"), &Value::IntValue(-3));
    assert_eq!(attribute(typed, "uint"), &Value::IntValue(201));
    assert_eq!(attribute(typed, "double"), &Value::DoubleValue(0.5));
    assert_eq!(attribute(typed, "flag"), &Value::BoolValue(true));
    assert_eq!(
        attribute(typed, "text"),
        &Value::StringValue("songs".into())
    );
    assert_eq!(
        attribute(typed, "big"),
        &Value::StringValue(u64::MAX.to_string()),
        "past i64: its decimal text"
    );
    let child = raw.iter().find(|s| s.name == "child").unwrap();
    let event = &child.events[0];
    let rows = event.attributes.iter().find(|kv| kv.key == "rows").unwrap();
    assert_eq!(rows.value.as_ref().unwrap().value, Some(Value::IntValue(3)));

    // Headers arrived, percent-decoded once (not twice).
    let tokens = receiver.header_values("authorization");
    assert!(!tokens.is_empty() && tokens.iter().all(|v| v == TOKEN));
    let percent = receiver.header_values("x-percent");
    assert!(!percent.is_empty() && percent.iter().all(|v| v == "100%41"));
}

#[test]
fn grpc_exports_kinds_status_attributes_events_links_resource_headers() {
    scenario(Protocol::Grpc);
}

#[test]
fn http_exports_kinds_status_attributes_events_links_resource_headers() {
    scenario(Protocol::HttpProtobuf);
}

#[test]
fn a_span_that_warns_without_end_keeps_its_memory_flat() {
    let receiver = Receiver::start_http();
    let mut pipeline =
        TracePipeline::start(&settings(&receiver.endpoint(), Protocol::HttpProtobuf)).unwrap();
    let subscriber = tracing_subscriber::registry().with(exporting(&pipeline));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("long").in_scope(|| {
            for i in 0..200_000_u64 {
                tracing::warn!(i, "again");
            }
        });
    });
    pipeline.shutdown(Duration::from_secs(10)).unwrap();
    let raw = raw_spans(&receiver);
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].events.len(), 128, "OTEL_SPAN_EVENT_COUNT_LIMIT");
    assert_eq!(raw[0].dropped_events_count, 200_000 - 128);
}

#[test]
fn an_unsampled_span_is_not_exported() {
    let receiver = Receiver::start_http();
    let mut pipeline =
        TracePipeline::start(&settings(&receiver.endpoint(), Protocol::HttpProtobuf)).unwrap();
    let signals = Signals::builder()
        .traces(pipeline.sink(), SignalFilter::all())
        .sampler(observe_runtime::context::Sampler::TraceIdRatio(0.0))
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(signals), || {
        for _ in 0..100 {
            tracing::info_span!("unsampled").in_scope(|| {});
        }
    });
    pipeline.shutdown(Duration::from_secs(10)).unwrap();
    assert!(receiver.spans().is_empty());
}

/// A span the traces filter leaves out (here: a debug span under `info`, which the metrics
/// and the logs may still take) is not exported, and nothing exported names it: its
/// children's parent is its nearest exported ancestor, and that ancestor's id is what it
/// propagates and what links to it name.
#[test]
fn a_span_left_out_of_export_stands_aside_for_its_exported_parent() {
    use observe_runtime::propagation::TraceContext;
    let receiver = Receiver::start_http();
    let mut pipeline =
        TracePipeline::start(&settings(&receiver.endpoint(), Protocol::HttpProtobuf)).unwrap();
    let signals = Signals::builder()
        .traces(pipeline.sink(), SignalFilter::new("info").unwrap())
        .logs(LogOutput::new(MemorySink::new()), SignalFilter::all())
        .build();
    let propagated =
        tracing::subscriber::with_default(tracing_subscriber::registry().with(signals), || {
            let _request = tracing::info_span!("request").entered();
            let middle = tracing::debug_span!("middle").entered();
            let propagated = TraceContext::current().unwrap().span_id();
            tracing::info_span!("child").in_scope(|| {});
            let follower = observe_runtime::context::with_links(
                middle.id(),
                || tracing::info_span!(parent: None, "follower"),
            );
            drop(follower);
            drop(middle);
            propagated
        });
    pipeline.shutdown(Duration::from_secs(10)).unwrap();
    let spans = receiver.spans();
    assert_eq!(spans.len(), 3, "request, child and follower: {spans:#?}");
    let request = by_name(&spans, "request");
    let child = by_name(&spans, "child");
    let follower = by_name(&spans, "follower");
    assert_eq!(child.parent_span_id, request.span_id, "the exported parent");
    assert_eq!(
        propagated.to_string(),
        request.span_id,
        "what middle propagates"
    );
    assert_eq!(
        follower.links,
        vec![(request.trace_id.clone(), request.span_id.clone())],
        "a link to middle names request"
    );
}

const MANY: usize = 1_000;

/// Creates `MANY` spans and shuts down from the calling context, asserting all arrive in a
/// bounded time.
fn many_spans_then_shutdown(protocol: Protocol) {
    let receiver = receiver(protocol);
    let mut pipeline = TracePipeline::start(&settings(&receiver.endpoint(), protocol)).unwrap();
    let subscriber = tracing_subscriber::registry().with(exporting(&pipeline));
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
        TracePipeline::start(&settings(&receiver.endpoint(), Protocol::HttpProtobuf)).unwrap();
    let subscriber = tracing_subscriber::registry().with(exporting(&pipeline));
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
    let endpoint = closed_port_endpoint();
    let mut pipeline = TracePipeline::start(&settings(&endpoint, protocol)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "start blocked");

    let sink = MemorySink::new();
    let signals = Signals::builder()
        .logs(
            LogOutput::new(sink.clone()),
            SignalFilter::new("info").unwrap(),
        )
        .traces(pipeline.sink(), SignalFilter::all())
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(signals));
    let started = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..100 {
            tracing::info_span!("unsent", i).in_scope(|| tracing::error!("lost"));
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "span creation blocked"
    );

    // The failure is counted and logged at once, naming where exports go.
    assert!(pipeline.force_flush(Duration::from_secs(10)));
    assert!(pipeline.failed_exports() >= 1);
    let warnings: Vec<String> = sink
        .lines()
        .into_iter()
        .filter(|l| l.contains("target=observe_runtime::export"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "logged once, not per failure: {warnings:#?}"
    );
    assert!(warnings[0].starts_with("level=warn "), "{}", warnings[0]);
    assert!(warnings[0].contains(&endpoint), "{}", warnings[0]);
    assert!(
        warnings[0].contains("observe_exports_failed_total"),
        "{}",
        warnings[0]
    );

    // A second failing flush is counted, not logged again within the minute.
    tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("more").in_scope(|| {}));
    assert!(pipeline.force_flush(Duration::from_secs(10)));
    assert!(pipeline.failed_exports() >= 2);
    assert_eq!(
        sink.lines()
            .iter()
            .filter(|l| l.contains("target=observe_runtime::export"))
            .count(),
        1
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
fn collector_down_blocks_nothing_and_is_counted_and_said_grpc() {
    collector_down(Protocol::Grpc);
}

#[test]
fn collector_down_blocks_nothing_and_is_counted_and_said_http() {
    collector_down(Protocol::HttpProtobuf);
}

/// An exporter that holds its first export until told to go on, and counts what it got.
#[derive(Debug, Clone)]
struct Held {
    started: Arc<Mutex<Option<mpsc::Sender<()>>>>,
    go: Arc<Mutex<mpsc::Receiver<()>>>,
    exported: Arc<Mutex<usize>>,
}

impl SpanExporter for Held {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(started) = self.started.lock().unwrap().take() {
            let _ = started.send(());
            let _ = self.go.lock().unwrap().recv();
        }
        *self.exported.lock().unwrap() += batch.len();
        Ok(())
    }
}

#[test]
fn spans_past_a_full_queue_are_dropped_and_counted_exactly() {
    let (started_tx, started) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    let exporter = Held {
        started: Arc::new(Mutex::new(Some(started_tx))),
        go: Arc::new(Mutex::new(go_rx)),
        exported: Arc::default(),
    };
    let mut export = settings("http://unused:4318", Protocol::HttpProtobuf);
    export.batch.max_queue_size = 10;
    export.batch.schedule_delay = Duration::from_secs(3600);
    let mut pipeline = TracePipeline::with_exporter(exporter.clone(), &export).unwrap();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(exporting(&pipeline)));
    let spans = |n: usize| {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..n {
                tracing::info_span!("burst").in_scope(|| {});
            }
        })
    };
    // A full batch wakes the export thread, which takes the ten and is held exporting.
    spans(10);
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    // Ten more fill the queue again; the rest are dropped.
    spans(95);
    assert_eq!(pipeline.dropped_spans(), 85);
    go.send(()).unwrap();
    pipeline.shutdown(Duration::from_secs(10)).unwrap();
    assert_eq!(*exporter.exported.lock().unwrap(), 20);
}
