//! `ObserveLayer` on a real axum server, with every layer of the crate and OpenTelemetry
//! exporting to a real OTLP receiver: span fields, log lines, exported spans, trace context,
//! request ids, the duration histogram, and that credentials go nowhere.

#![cfg(all(feature = "http", feature = "otlp"))]

mod http_support;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use http_support::*;
use observe_runtime::Signals;
use observe_runtime::config::{Config, Protocol};
use observe_runtime::filter::SignalFilter;
use observe_runtime::http::ObserveLayer;
use observe_runtime::log::LogOutput;
use observe_runtime::log::writer::MemorySink;
use observe_runtime::metrics::Metrics;
use observe_runtime::trace::TracePipeline;
use observe_testkit::http::{get, request};
use observe_testkit::otlp::{ReceivedSpan, Receiver};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use tower::{Layer, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

struct Harness {
    sink: MemorySink,
    metrics: Metrics,
    server: Server,
    receiver: Receiver,
    pipeline: TracePipeline,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let receiver = Receiver::start_http();
        let settings = Config::new()
            .otlp_endpoint(receiver.endpoint())
            .otlp_protocol(Protocol::HttpProtobuf)
            .service_name("http-test")
            .resolve_with(|_| None, "unused")
            .unwrap();
        let pipeline = TracePipeline::start(settings.traces.as_ref().unwrap()).unwrap();
        let sink = MemorySink::new();
        let metrics = metrics();
        let subscriber = tracing_subscriber::registry().with(
            Signals::builder()
                .logs(
                    LogOutput::new(sink.clone()),
                    SignalFilter::new("info").unwrap(),
                )
                .metrics(&metrics, SignalFilter::all())
                .traces(pipeline.sink(), SignalFilter::new("info").unwrap())
                .build(),
        );
        tracing::subscriber::set_global_default(subscriber).unwrap();
        Harness {
            sink,
            metrics,
            server: serve(),
            receiver,
            pipeline,
        }
    })
}

/// The exported server span of the request with this id.
fn exported(h: &Harness, request_id: &str) -> ReceivedSpan {
    assert!(h.pipeline.force_flush(Duration::from_secs(10)));
    let found: Vec<_> = h
        .receiver
        .spans()
        .into_iter()
        .filter(|s| s.attributes.get("request_id").map(String::as_str) == Some(request_id))
        .collect();
    assert_eq!(found.len(), 1, "one exported span for {request_id}");
    found.into_iter().next().unwrap()
}

fn traceparent(trace: &str, parent: &str) -> Vec<u8> {
    format!("00-{trace}-{parent}-01").into_bytes()
}

#[test]
fn a_matched_request_gets_a_named_server_span_with_semconv_fields() {
    let h = harness();
    let reply = get(
        h.server.addr,
        "/users/7?page=2",
        &[
            ("user-agent", b"observe-test/1.0 (linux)"),
            ("x-request-id", b"req-attrs-1"),
        ],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "user 7");
    assert_eq!(reply.header("x-request-id"), Some("req-attrs-1"));

    let port = h.server.addr.port().to_string();
    let (open, close) = span_lines(&h.sink, "req-attrs-1");
    for (key, expected) in [
        ("level", "info"),
        ("span_name", "GET /users/{id}"),
        ("otel.name", "GET /users/{id}"),
        ("otel.kind", "server"),
        ("http.request.method", "GET"),
        ("http.route", "/users/{id}"),
        ("url.path", "/users/7"),
        ("url.query", "page=2"),
        ("url.scheme", "http"),
        ("server.address", "127.0.0.1"),
        ("server.port", &port),
        ("client.address", "127.0.0.1"),
        ("network.protocol.version", "1.1"),
        ("user_agent.original", "observe-test/1.0 (linux)"),
    ] {
        assert_eq!(value(&open, key), Some(expected), "{key} in {open:?}");
        assert_eq!(value(&close, key), Some(expected), "{key} in {close:?}");
    }
    assert_eq!(value(&open, "http.response.status_code"), None);
    assert_eq!(value(&close, "http.response.status_code"), Some("200"));
    assert_eq!(value(&close, "http.response.body.size"), Some("6"));
    assert_eq!(value(&close, "otel.status_code"), None);
    assert_eq!(value(&close, "observe.result"), None);
    assert_eq!(value(&close, "http.request.method_original"), None);

    // The handler's event carries the request's context and trace id.
    let lines = lines_of(&h.sink, "req-attrs-1");
    let event = lines
        .iter()
        .find(|l| value(l, "msg") == Some("loading user"))
        .expect("the handler's event");
    assert_eq!(value(event, "trace_id"), value(&open, "trace_id"));
    assert_eq!(value(event, "span"), value(&open, "span"));
    assert_eq!(value(event, "http.route"), Some("/users/{id}"));

    let span = exported(h, "req-attrs-1");
    assert_eq!(span.name, "GET /users/{id}");
    assert_eq!(span.kind, "server");
    assert_eq!(span.status, "unset");
    assert_eq!(Some(span.trace_id.as_str()), value(&open, "trace_id"));
    assert_eq!(Some(span.span_id.as_str()), value(&open, "span"));
    assert_eq!(span.parent_span_id, "", "no traceparent: a root span");
    let expected: BTreeMap<&str, &str> = [
        ("http.request.method", "GET"),
        ("http.route", "/users/{id}"),
        ("url.path", "/users/7"),
        ("url.query", "page=2"),
        ("url.scheme", "http"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("client.address", "127.0.0.1"),
        ("network.protocol.version", "1.1"),
        ("user_agent.original", "observe-test/1.0 (linux)"),
        ("request_id", "req-attrs-1"),
        ("http.response.status_code", "200"),
        ("http.response.body.size", "6"),
    ]
    .into();
    for (key, value) in expected {
        assert_eq!(
            span.attributes.get(key).map(String::as_str),
            Some(value),
            "{key}"
        );
    }
    assert!(!span.attributes.contains_key("observe.result"));
    assert!(!span.attributes.contains_key("metric_name"));
}

#[test]
fn an_incoming_traceparent_is_continued_in_the_export_and_the_logs() {
    let h = harness();
    let reply = get(
        h.server.addr,
        "/users/8",
        &[
            ("traceparent", &traceparent(TRACE_ID, PARENT_ID)),
            ("tracestate", b"vendor=opaque"),
            ("x-request-id", b"req-traceparent"),
        ],
    );
    assert_eq!(reply.status, 200);

    let span = exported(h, "req-traceparent");
    assert_eq!(span.trace_id, TRACE_ID);
    assert_eq!(span.parent_span_id, PARENT_ID);

    let lines = lines_of(&h.sink, "req-traceparent");
    assert_eq!(lines.len(), 3, "new_span, event, close_span: {lines:#?}");
    for line in &lines {
        assert_eq!(value(line, "trace_id"), Some(TRACE_ID), "{line:?}");
    }
    let (open, _) = span_lines(&h.sink, "req-traceparent");
    assert_eq!(value(&open, "span"), Some(span.span_id.as_str()));
    assert_eq!(value(&open, "parent_span"), Some(PARENT_ID));
}

#[test]
fn a_malformed_or_huge_traceparent_starts_a_new_trace() {
    let h = harness();
    let huge = format!("00-{TRACE_ID}-{PARENT_ID}-01{}", "-0".repeat(8 * 1024)).into_bytes();
    let cases: [(&str, &[u8]); 4] = [
        ("req-bad-tp-1", b"garbage"),
        (
            "req-bad-tp-2",
            b"00-zzzzf3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        (
            "req-bad-tp-3",
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ),
        ("req-bad-tp-4", &huge),
    ];
    for (id, header) in cases {
        let reply = get(
            h.server.addr,
            "/users/9",
            &[("traceparent", header), ("x-request-id", id.as_bytes())],
        );
        assert_eq!(reply.status, 200, "{id}");
        let span = exported(h, id);
        assert_eq!(span.parent_span_id, "", "{id}");
        assert_ne!(span.trace_id, TRACE_ID, "{id}");
        assert_ne!(span.trace_id, "0".repeat(32), "{id}");
        let (open, _) = span_lines(&h.sink, id);
        assert_eq!(value(&open, "trace_id"), Some(span.trace_id.as_str()));
        assert_eq!(value(&open, "parent_span"), None);
    }
}

#[test]
fn only_server_errors_fail_the_span() {
    let h = harness();
    for (code, failed) in [
        (200, false),
        (404, false),
        (418, false),
        (500, true),
        (503, true),
    ] {
        let id = format!("req-status-{code}");
        let reply = get(
            h.server.addr,
            &format!("/status/{code}"),
            &[("x-request-id", id.as_bytes())],
        );
        assert_eq!(reply.status, code);
        let (_, close) = span_lines(&h.sink, &id);
        let code_text = code.to_string();
        assert_eq!(
            value(&close, "http.response.status_code"),
            Some(code_text.as_str())
        );
        let span = exported(h, &id);
        assert_eq!(span.name, "GET /status/{code}");
        if failed {
            assert_eq!(value(&close, "otel.status_code"), Some("ERROR"));
            assert_eq!(value(&close, "observe.result"), Some("error"));
            assert_eq!(value(&close, "error.type"), Some(code_text.as_str()));
            assert_eq!(span.status, "error", "{code}");
        } else {
            assert_eq!(value(&close, "otel.status_code"), None, "{code}");
            assert_eq!(value(&close, "observe.result"), None, "{code}");
            assert_eq!(span.status, "unset", "{code}");
        }
    }
}

#[test]
fn an_unmatched_request_is_named_by_its_method_alone() {
    let h = harness();
    let reply = get(
        h.server.addr,
        "/no/such/path-12345",
        &[("x-request-id", b"req-unmatched")],
    );
    assert_eq!(reply.status, 404);
    let (open, close) = span_lines(&h.sink, "req-unmatched");
    assert_eq!(value(&open, "otel.name"), Some("GET"));
    assert_eq!(value(&open, "http.route"), None);
    assert_eq!(value(&open, "url.path"), Some("/no/such/path-12345"));
    assert_eq!(value(&close, "http.response.status_code"), Some("404"));
    let span = exported(h, "req-unmatched");
    assert_eq!(span.name, "GET");
    assert!(!span.attributes.contains_key("http.route"));
}

#[test]
fn request_ids_are_kept_when_sane_and_made_when_not() {
    let h = harness();
    // Absent: generated, echoed, logged.
    let reply = get(h.server.addr, "/users/10", &[]);
    let generated = reply.header("x-request-id").expect("an id").to_owned();
    assert_eq!(generated.len(), 36);
    assert_eq!(&generated[14..15], "7", "UUIDv7: {generated}");
    span_lines(&h.sink, &generated);

    // Hostile: whitespace, control characters, non-ASCII, 10 KB. CR and LF cannot cross
    // HTTP/1.1 framing at all (the server rejects the request first); they are covered by
    // the unit tests of the check.
    let long = vec![b'a'; 10 * 1024];
    let hostile: [&[u8]; 4] = [b"evil id", b"evil\tid", b"caf\xc3\xa9", &long];
    for bad in hostile {
        let reply = get(h.server.addr, "/users/11", &[("x-request-id", bad)]);
        assert_eq!(reply.status, 200);
        let echoed = reply.header("x-request-id").unwrap();
        assert_eq!(echoed.len(), 36, "replaced: {echoed}");
        let (open, _) = span_lines(&h.sink, echoed);
        assert_eq!(value(&open, "request_id"), Some(echoed));
    }
    let everything = h.sink.lines().join("\n");
    assert!(!everything.contains("evil"));
    assert!(!everything.contains(&"a".repeat(200)));
}

#[test]
fn the_duration_histogram_counts_per_method_route_and_status() {
    let h = harness();
    for id in ["1", "1", "2", "3", "4"] {
        assert_eq!(
            get(h.server.addr, &format!("/metrics-test/{id}"), &[]).status,
            200
        );
    }
    assert_eq!(
        request(h.server.addr, "POST", "/metrics-test/1", &[], b"").status,
        405
    );
    assert_eq!(
        request(
            h.server.addr,
            "PROPFIND",
            "/metrics-unmatched/raw-path-xyz",
            &[],
            b""
        )
        .status,
        404
    );

    let text = h.metrics.render();
    let count = |labels: &str| series(&text, "http_server_request_duration_seconds_count", labels);
    assert_eq!(
        count(
            r#"http_request_method="GET",http_route="/metrics-test/{id}",http_response_status_code="200""#
        ),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        count(
            r#"http_request_method="POST",http_route="/metrics-test/{id}",http_response_status_code="405""#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count(r#"http_request_method="_OTHER",http_route="",http_response_status_code="404""#),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("raw-path-xyz"), "{text}");
    assert!(!text.contains("PROPFIND"), "{text}");
    assert!(!text.contains("/metrics-test/1"), "{text}");

    // The buckets OpenTelemetry recommends for this metric.
    let labels = r#"http_request_method="GET",http_route="/metrics-test/{id}",http_response_status_code="200""#;
    let bounds: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            line.strip_prefix(&format!(
                "http_server_request_duration_seconds_bucket{{{labels},le=\""
            ))
        })
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(
        bounds,
        [
            "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5",
            "5", "7.5", "10", "+Inf"
        ]
    );
    assert!(text.contains("# TYPE http_server_request_duration_seconds histogram"));
    // The span names no metric: no second family from the metrics layer.
    assert!(!text.contains("function_calls"), "{text}");
}

#[test]
fn credentials_appear_in_no_log_line_span_or_metric() {
    let h = harness();
    let bearer = format!("Bearer {SECRET}");
    let cookie = format!("session={SECRET}");
    let basic = format!("Basic {SECRET}");
    let reply = get(
        h.server.addr,
        &format!("/secret?access_token={SECRET}&page=1"),
        &[
            ("authorization", bearer.as_bytes()),
            ("cookie", cookie.as_bytes()),
            ("proxy-authorization", basic.as_bytes()),
            ("x-request-id", b"req-secret"),
        ],
    );
    assert_eq!(reply.status, 200);
    assert!(reply.header("set-cookie").unwrap().contains(SECRET));

    let (open, _) = span_lines(&h.sink, "req-secret");
    assert_eq!(
        value(&open, "url.query"),
        Some("access_token=REDACTED&page=1")
    );
    let logs = h.sink.lines().join("\n");
    assert!(!logs.contains(SECRET), "{logs}");
    let span = exported(h, "req-secret");
    for (key, value) in &span.attributes {
        assert!(!value.contains(SECRET), "{key}={value}");
        assert!(
            !key.contains("authorization") && !key.contains("cookie"),
            "{key}"
        );
    }
    assert!(!h.metrics.render().contains(SECRET));
}

#[test]
fn injected_trace_context_continues_the_server_span() {
    let h = harness();
    let reply = get(
        h.server.addr,
        "/outgoing",
        &[
            ("traceparent", &traceparent(TRACE_ID, PARENT_ID)),
            ("x-request-id", b"req-outgoing"),
        ],
    );
    assert_eq!(reply.status, 200);
    let span = exported(h, "req-outgoing");
    assert_eq!(
        reply.body,
        format!("00-{TRACE_ID}-{}-01", span.span_id),
        "the outgoing call is the server span's child"
    );

    // What was injected extracts to the same trace.
    let carrier: std::collections::HashMap<String, String> =
        [("traceparent".to_owned(), reply.body.clone())].into();
    let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
    assert_eq!(
        format!("{:032x}", cx.span().span_context().trace_id()),
        TRACE_ID
    );
}

#[test]
fn forwarded_for_is_trusted_only_when_configured() {
    let h = harness();
    let xff: &[u8] = b"203.0.113.9, 10.0.0.1";
    get(
        h.server.addr,
        "/users/12",
        &[
            ("x-forwarded-for", xff),
            ("x-request-id", b"req-xff-untrusted"),
        ],
    );
    get(
        h.server.addr,
        "/trusted/ip",
        &[
            ("x-forwarded-for", xff),
            ("x-request-id", b"req-xff-trusted"),
        ],
    );
    let (untrusted, _) = span_lines(&h.sink, "req-xff-untrusted");
    let (trusted, _) = span_lines(&h.sink, "req-xff-trusted");
    assert_eq!(value(&untrusted, "client.address"), Some("127.0.0.1"));
    assert_eq!(value(&trusted, "client.address"), Some("203.0.113.9"));
}

#[test]
fn a_client_that_goes_away_cancels_the_request() {
    let h = harness();
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(h.server.addr).unwrap();
    write!(
        stream,
        "GET /slow HTTP/1.1\r\nHost: x\r\nx-request-id: req-cancel\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(stream);

    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let close = loop {
        let closed = lines_of(&h.sink, "req-cancel")
            .into_iter()
            .find(|l| value(l, "span_event") == Some("close_span"));
        if let Some(close) = closed {
            break close;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the span never closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(value(&close, "observe.result"), Some("cancelled"));
    assert_eq!(value(&close, "http.response.status_code"), None);
    assert_eq!(value(&close, "otel.status_code"), None);
    let text = h.metrics.render();
    assert_eq!(
        series(
            &text,
            "http_server_request_duration_seconds_count",
            r#"http_request_method="GET",http_route="/slow",http_response_status_code="""#
        ),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn a_failing_inner_service_fails_the_span() {
    let h = harness();
    let failing = tower::service_fn(|_: http::Request<Body>| async {
        Err::<http::Response<Body>, _>(std::io::Error::other("backend down"))
    });
    let service = ObserveLayer::new().layer(failing);
    let request = http::Request::builder()
        .uri("/anything")
        .header("x-request-id", "req-inner-error")
        .body(Body::empty())
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = runtime.block_on(service.oneshot(request));
    assert_eq!(result.unwrap_err().to_string(), "backend down");
    let (_, close) = span_lines(&h.sink, "req-inner-error");
    assert_eq!(value(&close, "observe.result"), Some("error"));
    assert_eq!(value(&close, "otel.status_code"), Some("ERROR"));
    assert_eq!(value(&close, "error.type"), Some("_OTHER"));
    assert_eq!(exported(h, "req-inner-error").status, "error");
}

#[test]
fn a_panicking_inner_service_fails_the_span() {
    let h = harness();
    let panicking = tower::service_fn(|_: http::Request<Body>| async {
        if true {
            panic!("handler bug");
        }
        Ok::<http::Response<Body>, std::convert::Infallible>(http::Response::new(Body::empty()))
    });
    let service = ObserveLayer::new().layer(panicking);
    let request = http::Request::builder()
        .uri("/anything")
        .header("x-request-id", "req-panic")
        .body(Body::empty())
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(service.oneshot(request))
    }));
    assert!(outcome.is_err());
    let (_, close) = span_lines(&h.sink, "req-panic");
    assert_eq!(value(&close, "observe.result"), Some("error"));
    assert_eq!(value(&close, "error.type"), Some("panic"));
    assert_eq!(exported(h, "req-panic").status, "error");
}
