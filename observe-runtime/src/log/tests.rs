//! The log layer against the exact lines it writes, read back with the strict parser.

use super::logfmt_parse::parse_line;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

use super::writer::MemorySink;
use super::{LogFormat, LogLayer};
use crate::context::ContextLayer;

type Line = Vec<(String, String)>;

fn capture(format: LogFormat, body: impl FnOnce()) -> Vec<String> {
    let sink = MemorySink::default();
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(LogLayer::new(sink.clone()).with_format(format));
    tracing::subscriber::with_default(subscriber, body);
    sink.lines()
}

fn parsed(lines: &[String]) -> Vec<Line> {
    lines
        .iter()
        .map(|line| parse_line(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect()
}

fn keys(line: &Line) -> Vec<&str> {
    line.iter().map(|(k, _)| k.as_str()).collect()
}

fn get<'a>(line: &'a Line, key: &str) -> &'a str {
    line.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

#[test]
fn span_and_event_lines_have_the_designed_keys_in_order() {
    let lines = parsed(&capture(LogFormat::Logfmt, || {
        let request = tracing::info_span!("request", request_id = "r-1", user = "ada");
        let _request = request.enter();
        let query = tracing::info_span!("query", metric_name = "db", table = "songs", user = "bob");
        let _query = query.enter();
        tracing::warn!(rows = 3_u64, slow = true, "took long");
    }));
    assert_eq!(lines.len(), 5, "{lines:#?}");

    let new_request = &lines[0];
    assert_eq!(
        keys(new_request),
        [
            "level",
            "span_name",
            "span",
            "span_event",
            "timestamp",
            "trace_id",
            "request_id",
            "user"
        ]
    );
    assert_eq!(get(new_request, "span_event"), "new_span");

    let new_query = &lines[1];
    assert_eq!(
        keys(new_query),
        [
            "level",
            "span_name",
            "span",
            "parent_span",
            "span_event",
            "timestamp",
            "trace_id",
            "metric_name",
            "table",
            "user",
            "request_id"
        ]
    );
    assert_eq!(get(new_query, "parent_span"), get(new_request, "span"));
    assert_eq!(get(new_query, "user"), "bob", "nearest wins");

    let event = &lines[2];
    assert_eq!(
        keys(event),
        [
            "level",
            "msg",
            "rows",
            "slow",
            "target",
            "location",
            "timestamp",
            "span",
            "trace_id",
            "table",
            "user",
            "request_id"
        ]
    );
    assert_eq!(get(event, "level"), "warn");
    assert_eq!(get(event, "msg"), "took long");
    assert_eq!(get(event, "span"), get(new_query, "span"));
    assert!(get(event, "location").contains("log/tests.rs:"));

    let close_query = &lines[3];
    assert_eq!(get(close_query, "span_event"), "close_span");
    assert_eq!(keys(close_query)[7], "latency_ms");
    let latency: f64 = get(close_query, "latency_ms").parse().unwrap();
    assert!(latency >= 0.0);
    assert_eq!(
        get(close_query, "latency_ms")
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        3
    );

    for line in &lines {
        assert_eq!(get(line, "trace_id"), get(new_request, "trace_id"));
        assert_eq!(get(line, "trace_id").len(), 32);
        let ts = get(line, "timestamp");
        assert_eq!(ts.len(), "2026-11-24T15:08:01.123456Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
    }
}

#[test]
fn events_outside_spans_carry_no_span_or_trace_id() {
    let lines = parsed(&capture(LogFormat::Logfmt, || tracing::info!("alone")));
    assert_eq!(
        keys(&lines[0]),
        ["level", "msg", "target", "location", "timestamp"]
    );
}

#[test]
fn hostile_values_never_break_a_line() {
    let nasty = "a\nb\r\"c\\ d=e\tf\u{0}g\u{1b}h";
    let raw = capture(LogFormat::Logfmt, || {
        let _span = tracing::info_span!("s", v = nasty).entered();
        tracing::info!(w = nasty, "{nasty}");
    });
    for line in &raw {
        assert!(!line.trim_end_matches('\n').contains('\n'), "{line:?}");
    }
    let lines = parsed(&raw);
    assert_eq!(get(&lines[0], "v"), nasty);
    assert_eq!(get(&lines[1], "msg"), nasty);
    assert_eq!(get(&lines[1], "w"), nasty);
    assert_eq!(get(&lines[1], "v"), nasty);
}

#[test]
fn span_local_fields_are_not_inherited_by_children_or_events() {
    let lines = parsed(&capture(LogFormat::Logfmt, || {
        let _outer = tracing::info_span!(
            "outer",
            metric_name = "m",
            metric_label_k = "v",
            otel.kind = "server",
            error = "x",
            keep = 1_u64
        )
        .entered();
        tracing::info!("inside");
        let _inner = tracing::info_span!("inner").entered();
    }));
    let event = &lines[1];
    let inner = &lines[2];
    for line in [event, inner] {
        for local in ["metric_name", "metric_label_k", "otel.kind", "error"] {
            assert!(!keys(line).contains(&local), "{local} leaked into {line:?}");
        }
        assert_eq!(get(line, "keep"), "1");
    }
}

#[test]
fn fields_colliding_with_line_keys_appear_once() {
    let lines = parsed(&capture(LogFormat::Logfmt, || {
        let _span = tracing::info_span!("s", level = "custom", trace_id = "mine").entered();
        tracing::info!(target_field = 1, "m");
    }));
    for line in &lines {
        let mut seen = keys(line);
        let count = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), count, "duplicate key in {line:?}");
    }
    assert_eq!(get(&lines[0], "level"), "info");
}

#[test]
fn recorded_fields_show_on_the_close_line() {
    let lines = parsed(&capture(LogFormat::Logfmt, || {
        let span = tracing::info_span!("s", status = tracing::field::Empty);
        span.record("status", 204_u64);
    }));
    assert!(!keys(&lines[0]).contains(&"status"));
    assert_eq!(get(&lines[1], "status"), "204");
}

#[test]
fn json_lines_have_the_same_keys_in_the_same_order() {
    let run = || {
        let _span = tracing::info_span!("request", user = "ada", n = 2_u64).entered();
        tracing::info!(ok = true, "done \"quoted\"\n");
    };
    let logfmt = parsed(&capture(LogFormat::Logfmt, run));
    let json = capture(LogFormat::Json, run);
    assert_eq!(json.len(), logfmt.len());
    for (json_line, logfmt_line) in json.iter().zip(&logfmt) {
        assert!(
            json_line.starts_with('{') && json_line.ends_with('}'),
            "{json_line}"
        );
        assert!(!json_line.trim_end().contains('\n'));
        // Keys appear in the JSON text in the logfmt order.
        let mut from = 0;
        for key in keys(logfmt_line) {
            let quoted = format!("\"{key}\":");
            let at = json_line[from..]
                .find(&quoted)
                .unwrap_or_else(|| panic!("{key} missing or out of order in {json_line}"));
            from += at + quoted.len();
        }
    }
    assert!(
        json[1].contains(r#""msg":"done \"quoted\"\n""#),
        "{}",
        json[1]
    );
    assert!(json[1].contains(r#""ok":true"#));
    assert!(json[0].contains(r#""n":2"#));
}

#[test]
fn trace_ids_are_the_opentelemetry_ids_when_it_is_on() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let sink = MemorySink::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(ContextLayer::new().with_otel_ids())
        .with(LogLayer::new(sink.clone()));
    let mut exported = None;
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("traced");
        let context = span.context();
        let span_context = context.span().span_context().clone();
        exported = Some((
            format!("{:032x}", span_context.trace_id()),
            format!("{:016x}", span_context.span_id()),
        ));
        span.in_scope(|| tracing::info!("inside"));
    });
    let (trace_id, span_id) = exported.unwrap();
    let lines = parsed(&sink.lines());
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(get(line, "trace_id"), trace_id);
        assert_eq!(get(line, "span"), span_id);
    }
}

#[test]
fn the_layer_alone_keeps_its_own_records() {
    let sink = MemorySink::default();
    let subscriber = tracing_subscriber::registry().with(LogLayer::new(sink.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _outer = tracing::info_span!("outer", user = "ada").entered();
        tracing::info!("hi");
    });
    let lines = parsed(&sink.lines());
    assert_eq!(get(&lines[1], "user"), "ada");
    assert_eq!(get(&lines[1], "trace_id"), get(&lines[0], "trace_id"));
}

#[test]
fn a_debug_value_that_logs_does_not_dead_lock() {
    struct Chatty;
    impl std::fmt::Debug for Chatty {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            tracing::info!("from inside Debug");
            f.write_str("chatty")
        }
    }
    // tracing drops an event raised inside a subscriber callback; the outer line survives.
    let lines = parsed(&capture(
        LogFormat::Logfmt,
        || tracing::info!(v = ?Chatty, "outer"),
    ));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(get(&lines[0], "v"), "chatty");
}

#[test]
fn the_message_leads_wherever_it_was_declared() {
    for format in [LogFormat::Logfmt, LogFormat::Json] {
        let lines = capture(format, || {
            tracing::info!(a = 1_u64, b = "x y", message = "late");
            tracing::info!(message = "early", a = 2_u64);
            tracing::info!(a = 3_u64, "plain");
        });
        let want = match format {
            LogFormat::Json => [
                r#"{"level":"info","msg":"late","a":1,"b":"x y","target":"#,
                r#"{"level":"info","msg":"early","a":2,"target":"#,
                r#"{"level":"info","msg":"plain","a":3,"target":"#,
            ],
            _ => [
                r#"level=info msg=late a=1 b="x y" target="#,
                "level=info msg=early a=2 target=",
                "level=info msg=plain a=3 target=",
            ],
        };
        for (line, want) in lines.iter().zip(want) {
            assert!(
                line.starts_with(want),
                "{line:?} should start with {want:?}"
            );
        }
    }
}

#[test]
fn the_close_line_repeats_own_fields_until_one_changes() {
    let logfmt = MemorySink::default();
    let json = MemorySink::default();
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(LogLayer::new(logfmt.clone()))
        .with(LogLayer::new(json.clone()).with_format(LogFormat::Json));
    tracing::subscriber::with_default(subscriber, || {
        drop(tracing::info_span!("same", n = 1_u64, s = "a b"));
        let changed = tracing::info_span!("changed", n = 1_u64, s = "a b");
        changed.record("n", 2_u64);
        drop(changed);
    });
    let lines = parsed(&logfmt.lines());
    assert_eq!(get(&lines[1], "n"), "1");
    assert_eq!(get(&lines[1], "s"), "a b");
    assert_eq!(get(&lines[3], "n"), "2");
    let json = json.lines();
    assert!(json[1].contains(r#","n":1,"s":"a b"}"#), "{}", json[1]);
    assert!(json[3].contains(r#","n":2,"s":"a b"}"#), "{}", json[3]);
}

#[test]
fn events_see_inherited_fields_as_they_change_and_their_own_fields_win() {
    for format in [LogFormat::Logfmt, LogFormat::Json] {
        let lines = capture(format, || {
            let parent = tracing::info_span!("p", user = "ada", step = 1_u64);
            let _parent = parent.enter();
            let child = tracing::info_span!("c", request_id = "r-1");
            let _child = child.enter();
            tracing::info!("one");
            tracing::info!(user = "bob", "two");
            tracing::info!("three");
            parent.record("step", 2_u64);
            tracing::info!("four");
            child.record("request_id", "r-2");
            tracing::info!("five");
        });
        let events: Vec<&String> = lines.iter().filter(|l| !l.contains("span_event")).collect();
        assert_eq!(events.len(), 5, "{lines:#?}");
        let has = |line: &str, key: &str, value: &str| match format {
            LogFormat::Json => {
                let quoted = format!(r#""{key}":"{value}""#);
                let bare = format!(r#""{key}":{value}"#);
                line.contains(&quoted) || line.contains(&bare)
            }
            _ => line.contains(&format!(" {key}={value}")),
        };
        let count = |line: &str, key: &str| match format {
            LogFormat::Json => line.matches(&format!(r#""{key}":"#)).count(),
            _ => line.matches(&format!(" {key}=")).count(),
        };
        for (line, (user, step, request)) in events.iter().zip([
            ("ada", "1", "r-1"),
            ("bob", "1", "r-1"),
            ("ada", "1", "r-1"),
            ("ada", "2", "r-1"),
            ("ada", "2", "r-2"),
        ]) {
            assert!(has(line, "user", user), "{line}");
            assert!(has(line, "step", step), "{line}");
            assert!(has(line, "request_id", request), "{line}");
            assert_eq!(count(line, "user"), 1, "{line}");
        }
    }
}
