//! The HTTP middleware against a real axum server on 127.0.0.1, through `init()`: span
//! attributes, status handling, W3C trace context, request ids, the duration histogram and
//! secrets, read back from the log lines, the exposition and an OTLP receiver.
//!
//! One `init` per process: every test here shares it and tells its requests apart by
//! `x-request-id`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use observe::runtime::Guard;
use observe::runtime::config::Config;
use observe::runtime::http::{ObserveLayer, inject_trace_context};
use observe::runtime::log::writer::MemorySink;
use observe_testkit::http::Response;
use observe_testkit::logfmt::parse_line;
use observe_testkit::otlp::{ReceivedSpan, Receiver};

const SECRET: &str = "s3cr3t-token-4711";

struct Harness {
    addr: SocketAddr,
    logs: MemorySink,
    receiver: Receiver,
    guard: Guard,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let receiver = Receiver::start_grpc();
        let logs = MemorySink::default();
        let guard = Config::new()
            .log_writer(logs.clone())
            .otlp_endpoint(receiver.endpoint())
            .otlp_protocol(observe::runtime::config::Protocol::Grpc)
            .init()
            .expect("init");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/items/{id}", get(|| async { "an item" }))
                    .route(
                        "/fail",
                        get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "broken") }),
                    )
                    .route("/gone", get(|| async { (StatusCode::NOT_FOUND, "gone") }))
                    .route(
                        "/outgoing",
                        get(|| async {
                            let mut headers = http::HeaderMap::new();
                            inject_trace_context(&mut headers);
                            headers
                                .get("traceparent")
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default()
                        }),
                    )
                    .layer(ObserveLayer::new());
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
                .unwrap();
            });
        });
        Harness {
            addr,
            logs,
            receiver,
            guard,
        }
    })
}

/// GETs `path` from the harness's server as `probe/1.0`, with `headers` after that field.
fn get_with(path: &str, headers: &[(&str, &str)]) -> Response {
    let mut fields: Vec<(&str, &[u8])> = vec![("User-Agent", b"probe/1.0")];
    fields.extend(
        headers
            .iter()
            .map(|(name, value)| (*name, value.as_bytes())),
    );
    observe_testkit::http::get(harness().addr, path, &fields)
}

type Line = Vec<(String, String)>;

fn value<'a>(line: &'a Line, key: &str) -> Option<&'a str> {
    line.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The close line of the request with this id (written once the response is complete).
fn close_line(request_id: &str) -> Line {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = harness()
            .logs
            .lines()
            .iter()
            .map(|l| parse_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .find(|l| {
                value(l, "request_id") == Some(request_id)
                    && value(l, "span_event") == Some("close_span")
            });
        if let Some(line) = found {
            return line;
        }
        assert!(Instant::now() < deadline, "no close line for {request_id}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn exported(trace_id: &str) -> Vec<ReceivedSpan> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let spans: Vec<_> = harness()
            .receiver
            .spans()
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect();
        if !spans.is_empty() {
            return spans;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace_id} was not exported"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_request_gets_a_server_span_with_the_semantic_convention_attributes() {
    let reply = get_with("/items/7?q=1", &[("x-request-id", "attrs-1")]);
    assert_eq!(reply.status, 200);
    let line = close_line("attrs-1");
    for (key, expected) in [
        ("span_name", "GET /items/{id}"),
        ("otel.kind", "server"),
        ("http.request.method", "GET"),
        ("http.route", "/items/{id}"),
        ("url.path", "/items/7"),
        ("url.query", "q=1"),
        ("url.scheme", "http"),
        ("server.address", "127.0.0.1"),
        ("client.address", "127.0.0.1"),
        ("network.protocol.version", "1.1"),
        ("user_agent.original", "probe/1.0"),
        ("http.response.status_code", "200"),
        ("http.response.body.size", "7"),
    ] {
        assert_eq!(value(&line, key), Some(expected), "{key} in {line:?}");
    }
    assert_eq!(
        value(&line, "server.port"),
        Some(harness().addr.port().to_string().as_str())
    );
    assert_eq!(value(&line, "otel.status_code"), None);
    assert_eq!(value(&line, "observe.result"), None);
}

#[test]
fn server_errors_fail_the_span_but_client_errors_do_not() {
    assert_eq!(
        get_with("/fail", &[("x-request-id", "status-500")]).status,
        500
    );
    assert_eq!(
        get_with("/gone", &[("x-request-id", "status-404")]).status,
        404
    );
    let failed = close_line("status-500");
    assert_eq!(value(&failed, "otel.status_code"), Some("ERROR"));
    assert_eq!(value(&failed, "observe.result"), Some("error"));
    let gone = close_line("status-404");
    assert_eq!(value(&gone, "http.response.status_code"), Some("404"));
    assert_eq!(value(&gone, "otel.status_code"), None);
    assert_eq!(value(&gone, "observe.result"), None);
}

#[test]
fn the_duration_histogram_counts_by_method_route_and_status_never_by_raw_path() {
    for i in 0..3 {
        assert_eq!(get_with(&format!("/items/{i}"), &[]).status, 200);
    }
    for i in 0..2 {
        assert_eq!(get_with(&format!("/no/such/path/{i}"), &[]).status, 404);
    }
    // Other tests hit the same routes concurrently: compare what this test added.
    let count = |labels: &str| -> u64 {
        let needle = format!("http_server_request_duration_seconds_count{{{labels}}} ");
        harness()
            .guard
            .metrics_text()
            .lines()
            .find_map(|l| l.strip_prefix(&needle).map(|v| v.parse().unwrap()))
            .unwrap_or(0)
    };
    let text = harness().guard.metrics_text();
    assert!(
        count(
            r#"http_request_method="GET",http_route="/items/{id}",http_response_status_code="200""#
        ) >= 3,
        "{text}"
    );
    assert!(
        count(r#"http_request_method="GET",http_route="",http_response_status_code="404""#) >= 2,
        "{text}"
    );
    assert!(
        !text.contains("/no/such/path"),
        "a raw path became a label:\n{text}"
    );
    assert!(text.contains("# TYPE http_server_request_duration_seconds histogram"));
    assert!(text.contains(r#"le="0.005""#) && text.contains(r#"le="10""#));
}

#[test]
fn an_incoming_traceparent_is_continued_and_a_malformed_one_starts_a_new_trace() {
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller = "b7ad6b7169203331";
    let traceparent = format!("00-{trace}-{caller}-01");
    let reply = get_with(
        "/items/1",
        &[
            ("traceparent", traceparent.as_str()),
            ("x-request-id", "tp-ok"),
        ],
    );
    assert_eq!(reply.status, 200);
    let line = close_line("tp-ok");
    assert_eq!(value(&line, "trace_id"), Some(trace));
    assert_eq!(value(&line, "parent_span"), Some(caller));
    let spans = exported(trace);
    let server = spans
        .iter()
        .find(|s| s.kind == "server")
        .expect("the server span");
    assert_eq!(server.parent_span_id, caller);
    assert_eq!(server.name, "GET /items/{id}");
    assert_eq!(
        value(&line, "span"),
        Some(server.span_id.as_str()),
        "logs and export share ids"
    );

    let huge = format!("00-{}-{caller}-01", "f".repeat(4096));
    for (id, bad) in [
        ("tp-bad-1", "00-zz-yy-01"),
        ("tp-bad-2", "not a traceparent"),
        ("tp-bad-3", huge.as_str()),
    ] {
        assert_eq!(
            get_with("/items/1", &[("traceparent", bad), ("x-request-id", id)]).status,
            200
        );
        let line = close_line(id);
        let trace_id = value(&line, "trace_id").unwrap();
        assert_eq!(trace_id.len(), 32);
        assert_ne!(trace_id, trace);
        assert_eq!(
            value(&line, "parent_span"),
            None,
            "a new trace has no parent"
        );
    }
}

#[test]
fn request_ids_are_echoed_generated_or_replaced() {
    let kept = get_with("/items/1", &[("x-request-id", "rid-kept")]);
    assert_eq!(kept.header("x-request-id"), Some("rid-kept"));

    let generated = get_with("/items/1", &[]);
    let id = generated
        .header("x-request-id")
        .expect("a generated id")
        .to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "UUIDv7: {id}");
    close_line(&id);

    let long = "x".repeat(10_000);
    let replaced = get_with("/items/1", &[("x-request-id", long.as_str())]);
    let id = replaced.header("x-request-id").unwrap();
    assert_eq!(id.len(), 36, "an oversized id is replaced, not echoed");
}

#[test]
fn credentials_reach_no_output() {
    let bearer = format!("Bearer {SECRET}");
    let cookie = format!("session={SECRET}");
    let reply = get_with(
        "/items/1",
        &[
            ("authorization", bearer.as_str()),
            ("cookie", cookie.as_str()),
            ("proxy-authorization", bearer.as_str()),
            ("x-request-id", "secrets"),
        ],
    );
    assert_eq!(reply.status, 200);
    let line = close_line("secrets");
    let trace = value(&line, "trace_id").unwrap().to_owned();
    let spans = exported(&trace);
    let logs = String::from_utf8(harness().logs.contents()).unwrap();
    assert!(!logs.contains(SECRET), "a secret reached the logs");
    assert!(
        !harness().guard.metrics_text().contains(SECRET),
        "a secret reached the metrics"
    );
    for span in spans {
        assert!(
            !format!("{span:?}").contains(SECRET),
            "a secret reached an exported span"
        );
    }
}

#[test]
fn outgoing_calls_carry_the_server_span_trace() {
    let reply = get_with("/outgoing", &[("x-request-id", "outgoing")]);
    assert_eq!(reply.status, 200);
    let line = close_line("outgoing");
    let parts: Vec<&str> = reply.body.split('-').collect();
    assert_eq!(parts.len(), 4, "a traceparent: {}", reply.body);
    assert_eq!(Some(parts[1]), value(&line, "trace_id"));
    assert_eq!(
        Some(parts[2]),
        value(&line, "span"),
        "the callee's parent is the server span"
    );
}
