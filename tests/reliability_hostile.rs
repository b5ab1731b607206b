//! Hostile input: arbitrary values through the log layer (property tests), planted secrets
//! that must never appear in any output, every documented variable with a bad value, and a
//! `/metrics` listener that binds only where told and serves nothing but `/metrics`.

mod reliability_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use observe::runtime::Signals;
use observe::runtime::config::Config;
use observe::runtime::filter::SignalFilter;
use observe::runtime::log::writer::MemorySink;
use observe::runtime::log::{LogFormat, LogOutput};
use observe_testkit::logfmt::parse_line;
use observe_testkit::otlp::{Receiver, Transport};
use proptest::prelude::*;
use reliability_common::*;
use tracing_subscriber::layer::SubscriberExt;

// ---------------------------------------------------------------------------------------
// The log layer: hostile values → one line per record that reads back. (The encoders' own
// property tests are unit tests of observe-runtime: `log/proptests.rs`.)
// ---------------------------------------------------------------------------------------

/// Strings rich in what encoders get wrong: quotes, backslashes, `=`, spaces, every control
/// character, U+2028/2029, non-ASCII, and arbitrary Unicode.
fn nasty_string() -> impl Strategy<Value = String> {
    let nasty_char = prop_oneof![
        4 => any::<char>(),
        2 => proptest::sample::select(vec![
            '"', '\\', '=', ' ', '\n', '\r', '\t', '\0', '\u{1b}', '\u{7f}', '\u{85}',
            '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}', 'é', '日', '🦀', '{', '}', ':', ',',
        ]),
        3 => proptest::char::range('\u{0}', '\u{7f}'),
    ];
    proptest::collection::vec(nasty_char, 0..24).prop_map(|cs| cs.into_iter().collect())
}

// The log layer end to end: hostile span and event values, one line per record.
proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn layer_lines_survive_hostile_values(
        span_value in nasty_string(),
        message in nasty_string(),
        debug_value in nasty_string(),
        json in any::<bool>(),
    ) {
        let sink = MemorySink::default();
        let format = if json { LogFormat::Json } else { LogFormat::Logfmt };
        let subscriber = tracing_subscriber::registry().with(
            Signals::builder()
                .logs(LogOutput::new(sink.clone()).with_format(format), SignalFilter::all())
                .build(),
        );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("hostile", context = %span_value);
            span.in_scope(|| tracing::info!(dbg = ?debug_value, "{}", message));
        });
        let text = String::from_utf8(sink.contents()).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        prop_assert_eq!(lines.len(), 3, "{:?}", text);
        let event = lines[1];
        if json {
            let v: serde_json::Value = serde_json::from_str(event)
                .map_err(|e| TestCaseError::fail(format!("{e}: {event:?}")))?;
            prop_assert_eq!(v["msg"].as_str(), Some(message.as_str()));
            let dbg = format!("{debug_value:?}");
            prop_assert_eq!(v["dbg"].as_str(), Some(dbg.as_str()));
            prop_assert_eq!(v["context"].as_str(), Some(span_value.as_str()));
            for line in &lines {
                serde_json::from_str::<serde_json::Value>(line).unwrap();
            }
        } else {
            let pairs = parse_line(event).map_err(|e| TestCaseError::fail(format!("{e}: {event:?}")))?;
            let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            prop_assert_eq!(get("msg"), Some(message.clone()));
            prop_assert_eq!(get("dbg"), Some(format!("{debug_value:?}")));
            prop_assert_eq!(get("context"), Some(span_value.clone()));
            for line in &lines {
                parse_line(line).unwrap();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Configuration: every documented variable with a bad value.
// ---------------------------------------------------------------------------------------

/// Each documented variable with a value it must refuse (plus, where needed, the variable
/// that makes it matter).
/// `(variable, bad value, other variables it needs)`.
type BadValue = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const BAD_VALUES: &[BadValue] = &[
    ("RUST_LOG", "app=loudest", &[]),
    ("OBSERVE_LOG_FORMAT", "xml", &[]),
    ("OBSERVE_LOG_LOSSY", "maybe", &[]),
    ("OBSERVE_METRICS_ADDR", "localhost", &[]),
    ("OBSERVE_METRICS_FILTER", "app=loudest", &[]),
    ("OBSERVE_TRACES_FILTER", "a=b=c", &[]),
    ("OBSERVE_SPAN_LINES", "open", &[]),
    ("OBSERVE_SPAN_EVENTS", "loud", &[]),
    ("OTEL_BSP_MAX_QUEUE_SIZE", "0", &[]),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many", &[]),
    ("OTEL_BSP_SCHEDULE_DELAY", "5s", &[]),
    ("OTEL_BSP_EXPORT_TIMEOUT", "-1", &[]),
    ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots", &[]),
    ("OTEL_SPAN_EVENT_COUNT_LIMIT", "-5", &[]),
    ("OTEL_SPAN_LINK_COUNT_LIMIT", "1e3", &[]),
    ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "x", &[]),
    ("OTEL_RESOURCE_ATTRIBUTES", "team", &[]),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", &[]),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector", &[]),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", &[]),
    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift", &[]),
    ("OTEL_EXPORTER_OTLP_HEADERS", "authorization", &[]),
    ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-token=a%01b", &[]),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", &[]),
    ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0", &[]),
    ("OTEL_TRACES_SAMPLER", "sometimes", &[]),
    (
        "OTEL_TRACES_SAMPLER_ARG",
        "1.5",
        &[("OTEL_TRACES_SAMPLER", "traceidratio")],
    ),
    ("OTEL_SDK_DISABLED", "yes", &[]),
    ("OTEL_TRACES_EXPORTER", "jaeger", &[]),
];

/// Documented variables that have no bad value: any non-blank text is a valid name.
const NO_BAD_VALUE: &[&str] = &["OTEL_SERVICE_NAME"];

#[test]
fn every_documented_variable_with_a_bad_value_is_named_in_the_error() {
    for (var, bad, extra) in BAD_VALUES {
        let env = |name: &str| {
            if name == *var {
                return Some(bad.to_string());
            }
            extra
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let result = std::panic::catch_unwind(|| Config::new().resolve_with(env, "svc"));
        let err = result
            .unwrap_or_else(|_| panic!("{var}={bad:?}: resolve panicked"))
            .expect_err(var);
        assert_eq!(err.variable(), *var, "{err}");
        assert!(err.to_string().starts_with(var), "{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text in any documented variable: `resolve` never panics, and an error names a
    /// variable that was set.
    #[test]
    fn any_variable_value_resolves_or_names_the_variable(
        which in proptest::collection::vec(0..BAD_VALUES.len() + 1, 1..4),
        values in proptest::collection::vec(nasty_string(), 4),
    ) {
        let names: Vec<&str> = which
            .iter()
            .map(|&i| BAD_VALUES.get(i).map_or(NO_BAD_VALUE[0], |b| b.0))
            .collect();
        let env = |name: &str| {
            names.iter().position(|n| *n == name).map(|i| values[i].clone())
        };
        let result = std::panic::catch_unwind(|| Config::new().resolve_with(env, "svc"));
        let resolved = result.map_err(|_| TestCaseError::fail(format!("panicked: {names:?} {values:?}")))?;
        if let Err(err) = resolved {
            prop_assert!(names.contains(&err.variable()), "{} not among {:?}", err, names);
        }
    }
}

/// Filter-shaped text: the characters `EnvFilter`'s parser treats specially, blanks, and
/// multi-byte characters.
fn filter_string() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => proptest::sample::select(vec![
            ',', '=', '[', ']', '{', '}', ' ', '\t', ':', '_', '-', '"', '.', '*',
        ]),
        3 => proptest::char::range('a', 'z'),
        1 => proptest::sample::select(vec!['é', '¡', '日', '\u{2028}', '🦀', '\u{a0}']),
    ];
    proptest::collection::vec(c, 0..24).prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// tracing-subscriber's filter parser panics on a blank before a multi-byte character
    /// (`"\ta¡="`); `RUST_LOG` must give an error or a filter, never a panic.
    #[test]
    fn any_rust_log_resolves_or_is_refused_without_panicking(filter in filter_string()) {
        let env = |name: &str| (name == "RUST_LOG").then(|| filter.clone());
        let result = std::panic::catch_unwind(|| Config::new().resolve_with(env, "svc"));
        let resolved = result.map_err(|_| TestCaseError::fail(format!("panicked on {filter:?}")))?;
        if let Err(err) = resolved {
            prop_assert_eq!(err.variable(), "RUST_LOG");
        }
    }
}

#[test]
fn values_that_used_to_panic_resolve_or_are_refused() {
    for (raw, want) in [
        ("info, h2=off", "info,h2=off"),
        (" warn ,\tapp=debug", "warn,app=debug"),
    ] {
        let env = |name: &str| (name == "RUST_LOG").then(|| raw.to_string());
        let s = Config::new().resolve_with(env, "svc").unwrap();
        assert_eq!(s.log_filter, want);
    }
    // Found by the property tests below: `init` panicked on these before the fixes.
    for (var, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "\u{10000}\u{1f980}"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "htt\u{e9}://x"),
    ] {
        let env = |name: &str| (name == var).then(|| value.to_string());
        let result = std::panic::catch_unwind(|| Config::new().resolve_with(env, "svc"));
        let err = result.unwrap_or_else(|_| panic!("{var}={value:?} panicked"));
        assert_eq!(err.unwrap_err().variable(), var);
    }
    // A panic inside tracing-subscriber before the fix.
    let env = |name: &str| (name == "RUST_LOG").then(|| "\ta\u{a1}=".to_string());
    let result = std::panic::catch_unwind(|| Config::new().resolve_with(env, "svc"));
    assert!(result.is_ok(), "RUST_LOG=\"\\ta\u{a1}=\" panicked");
}

#[test]
#[ignore = "child process of init_with_a_bad_variable_fails_naming_it"]
fn child_bad_variable() {
    if !is_child("child_bad_variable") {
        return;
    }
    let var = std::env::var("BAD_VARIABLE").unwrap();
    let err = observe::runtime::init().expect_err("a bad value must fail init");
    let text = err.to_string();
    report("error", &text);
    assert!(
        text.contains(&var),
        "init failed with {text:?}, which does not name {var}"
    );
}

#[test]
fn init_with_a_bad_variable_fails_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    type Case = (String, String, Vec<(String, String)>);
    let mut cases: Vec<Case> = BAD_VALUES
        .iter()
        .map(|(var, bad, extra)| {
            (
                var.to_string(),
                bad.to_string(),
                extra
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect();
    // Bad only when init acts on them: an address in use, a CA file that is not there.
    cases.push(("OBSERVE_METRICS_ADDR".into(), taken_addr, vec![]));
    cases.push((
        "OTEL_EXPORTER_OTLP_CERTIFICATE".into(),
        "/nonexistent/observe-ca.pem".into(),
        vec![(
            "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            "https://collector.example:4318".into(),
        )],
    ));
    let mut failures = Vec::new();
    for (var, bad, extra) in &cases {
        let mut envs: Vec<(&str, String)> = vec![("BAD_VARIABLE", var.clone()), (var, bad.clone())];
        envs.extend(extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let (output, _) = run_child("child_bad_variable", &envs, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || stderr.contains("panicked") {
            failures.push(format!(
                "{var}={bad:?}: {:?}\n{stderr}",
                reports(&output).get("error")
            ));
        }
    }
    drop(taken);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Secrets never appear in any output.
// ---------------------------------------------------------------------------------------

const SECRETS: &[&str] = &[
    "PLANTED-SECRET-aaa",
    "PLANTED-SECRET-bbb",
    "PLANTED-SECRET-ccc",
    "PLANTED-SECRET-ddd",
    "PLANTED-SECRET-eee",
];

#[observe::observe(metric = "secret_op", err)]
fn secret_op(fail: bool) -> Result<(), String> {
    tracing::info!("working");
    if fail { Err("failed".into()) } else { Ok(()) }
}

#[test]
#[ignore = "child process of planted_secrets_never_appear_in_any_output"]
fn child_secrets() {
    if !is_child("child_secrets") {
        return;
    }
    // Everything that can be printed is printed, to stdout or stderr.
    let config = Config::new().otlp_header("x-code-token", "PLANTED-SECRET-ddd");
    println!("config: {config:?}");
    eprintln!("config: {config:?}");
    let settings = Config::new().resolve("svc").expect("resolve");
    println!("settings: {settings:?}");
    println!("traces: {:?}", settings.traces);
    let bad = |v: &'static str| {
        move |name: &str| (name == "OTEL_EXPORTER_OTLP_HEADERS").then(|| v.to_string())
    };
    for value in [
        "authorization=Bearer PLANTED-SECRET-eee\u{1}",
        "authorization=PLANTED-SECRET-eee%zz",
        "authorization PLANTED-SECRET-eee",
        "grpc-authorization=PLANTED-SECRET-eee",
    ] {
        let err = Config::new().resolve_with(bad(value), "svc").unwrap_err();
        println!("config error: {err} / {err:?}");
    }
    let err = Config::new()
        .otlp_header("authorization", "PLANTED-SECRET-eee\n")
        .resolve_with(|_| None, "svc")
        .unwrap_err();
    println!("config error: {err} / {err:?}");

    let guard = observe::runtime::init().expect("init");
    println!("guard: {guard:?}");
    let again = observe::runtime::init().unwrap_err();
    println!("init error: {again} / {again:?}");
    for i in 0..50 {
        let _ = secret_op(i % 5 == 0);
    }
    tracing::warn!(?settings, "settings as a field");
    let addr = guard.metrics_addr().expect("metrics served");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut scrape = String::new();
    stream.read_to_string(&mut scrape).unwrap();
    println!("scrape: {scrape}");
    println!("metrics_text: {}", guard.metrics_text());
    drop(guard);
}

fn secrets(protocol: &str) {
    let receiver = Receiver::start(if protocol == "grpc" {
        Transport::Grpc
    } else {
        Transport::HttpProtobuf
    });
    let endpoint = receiver
        .endpoint()
        .replace("http://", "http://planted:PLANTED-SECRET-ccc@");
    let (output, _) = run_child(
        "child_secrets",
        &[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20PLANTED-SECRET-aaa,x-api-key=PLANTED-SECRET-bbb".into(),
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                if protocol == "grpc" { "grpc" } else { "http/protobuf" }.into(),
            ),
            ("OBSERVE_METRICS_ADDR", "127.0.0.1:0".into()),
            // Everything, including the exporter's own crates.
            (
                "RUST_LOG",
                "trace,h2=trace,hyper=trace,hyper_util=trace,tonic=trace,tower=trace,opentelemetry=trace"
                    .into(),
            ),
            ("RUST_BACKTRACE", "1".into()),
        ],
        Duration::from_secs(60),
    );
    assert_success("child_secrets", &output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("scrape: HTTP/1.1 200 OK"), "the scrape ran");
    assert!(stdout.contains("config error: "), "the errors were printed");
    assert!(
        stdout
            .lines()
            .filter(|l| l.contains("span_event=close_span"))
            .count()
            >= 50,
        "the log lines were printed"
    );
    let exported = receiver.wait_for_spans(50, Duration::from_secs(10));
    let payload = format!("{exported:?}");
    for secret in SECRETS {
        for (name, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("exported spans", &payload),
        ] {
            let at = text.find(secret);
            assert!(
                at.is_none(),
                "{protocol}: {secret} appears in {name}: …{}…",
                &text[at.unwrap().saturating_sub(200)..(at.unwrap() + 50).min(text.len())]
            );
        }
    }
    // The secrets were in use: the collector got them.
    let auth = receiver.header_values("authorization");
    assert!(
        auth.iter().any(|v| v == "Bearer PLANTED-SECRET-aaa"),
        "{protocol}: headers the collector saw: {:?}",
        receiver.headers().first()
    );
    assert!(
        receiver
            .header_values("x-api-key")
            .iter()
            .any(|v| v == "PLANTED-SECRET-bbb")
    );
}

#[test]
fn planted_secrets_never_appear_in_any_output_http() {
    secrets("http");
}

#[test]
fn planted_secrets_never_appear_in_any_output_grpc() {
    secrets("grpc");
}

// ---------------------------------------------------------------------------------------
// The /metrics listener.
// ---------------------------------------------------------------------------------------

#[test]
#[ignore = "child process of the metrics_listener_* tests"]
fn child_listener() {
    if !is_child("child_listener") {
        return;
    }
    let before = listening_sockets();
    let guard = observe::runtime::init().expect("init");
    for i in 0..10 {
        let _ = secret_op(i == 0);
    }
    let after = listening_sockets();
    report("before", format!("{before:?}"));
    report("after", format!("{after:?}"));
    report(
        "metrics_addr",
        guard
            .metrics_addr()
            .map_or("none".into(), |a| a.to_string()),
    );
    if std::env::var("PROBE").is_ok() {
        probe(guard.metrics_addr().expect("served"));
    }
    drop(guard);
    report("after_drop", format!("{:?}", listening_sockets()));
}

fn request(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(raw);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// Only `GET`/`HEAD /metrics` (with or without a query, origin- or absolute-form) get the
/// exposition; everything else gets an error status and no metrics.
fn probe(addr: std::net::SocketAddr) {
    let ok: &[&[u8]] = &[
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.0\r\n\r\n",
    ];
    for raw in ok {
        let response = request(addr, raw);
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("# TYPE secret_op_total counter"),
            "{response}"
        );
    }
    let head = request(addr, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && !head.contains("# TYPE"));

    let long_path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(10_000));
    let huge_header = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(20_000)
    );
    let refused: Vec<(&[u8], &str)> = vec![
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /Metrics HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (
            b"GET /metrics/../metrics HTTP/1.1\r\nHost: x\r\n\r\n",
            "404",
        ),
        (b"GET /%6detrics HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET //metrics HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /debug/pprof HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
            "405",
        ),
        (b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "405"),
        (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
        (b"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
        (b"GET /metrics HTTP/2.0\r\n\r\n", "400"),
        (b"GET /metrics\r\n\r\n", "400"),
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
            "400",
        ),
        (b"garbage\r\n\r\n", "400"),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\n", "400"), // head never ends
        (long_path.as_bytes(), "431"),
        (huge_header.as_bytes(), "431"),
    ];
    for (raw, status) in refused {
        let response = request(addr, raw);
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(60)]);
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{shown:?} → {response}"
        );
        assert!(!response.contains("# TYPE"), "{shown:?} served metrics");
    }
    // And it still answers after all that.
    assert!(request(addr, ok[0]).starts_with("HTTP/1.1 200 OK\r\n"));
}

#[test]
fn metrics_listener_is_not_opened_by_default() {
    let (output, _) = run_child("child_listener", &[], Duration::from_secs(60));
    assert_success("child_listener", &output);
    let r = reports(&output);
    assert_eq!(r["before"], "[]");
    assert_eq!(
        r["after"], "[]",
        "no listening socket without OBSERVE_METRICS_ADDR"
    );
    assert_eq!(r["metrics_addr"], "none");
}

#[test]
fn metrics_listener_is_not_opened_by_trace_export() {
    let receiver = Receiver::start_http();
    let (output, _) = run_child(
        "child_listener",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())],
        Duration::from_secs(60),
    );
    assert_success("child_listener", &output);
    assert_eq!(reports(&output)["after"], "[]");
}

#[test]
fn metrics_listener_binds_only_where_told_and_serves_only_metrics() {
    let (output, _) = run_child(
        "child_listener",
        &[
            ("OBSERVE_METRICS_ADDR", "127.0.0.1:0".into()),
            ("PROBE", "1".into()),
        ],
        Duration::from_secs(60),
    );
    assert_success("child_listener", &output);
    let r = reports(&output);
    let addr = &r["metrics_addr"];
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_eq!(
        r["after"],
        format!("[{addr:?}]"),
        "exactly one listener, there"
    );
    assert_eq!(r["after_drop"], "[]", "dropping the guard closes it");
}
