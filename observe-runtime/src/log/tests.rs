//! The log layer against the exact lines it writes, read back with the strict parser.

use observe_testkit::logfmt::parse_line;
use tracing_subscriber::layer::SubscriberExt;

use super::writer::MemorySink;
use super::{LogFormat, LogOutput, SpanLines};
use crate::Signals;
use crate::filter::SignalFilter;

type Line = Vec<(String, String)>;

/// A layer that logs everything into `sink`.
fn layer(sink: &MemorySink, format: LogFormat, span_lines: SpanLines) -> Signals {
    let output = LogOutput::new(sink.clone())
        .with_format(format)
        .with_span_lines(span_lines);
    Signals::builder().logs(output, SignalFilter::all()).build()
}

fn capture(format: LogFormat, body: impl FnOnce()) -> Vec<String> {
    capture_with(format, SpanLines::OpenClose, body)
}

fn capture_with(format: LogFormat, span_lines: SpanLines, body: impl FnOnce()) -> Vec<String> {
    let sink = MemorySink::default();
    let subscriber = tracing_subscriber::registry().with(layer(&sink, format, span_lines));
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
fn every_line_of_a_span_carries_its_ids() {
    let lines = parsed(&capture(LogFormat::Logfmt, || {
        let _outer = tracing::info_span!("outer", user = "ada").entered();
        tracing::info!("hi");
    }));
    assert_eq!(lines.len(), 3);
    assert_eq!(get(&lines[1], "user"), "ada");
    for line in &lines {
        assert_eq!(get(line, "trace_id"), get(&lines[0], "trace_id"));
        assert_eq!(get(line, "span"), get(&lines[0], "span"));
    }
}

#[test]
fn span_lines_can_be_close_only_or_off() {
    let body = || {
        let span = tracing::info_span!("job", user = "ada", n = 1_u64);
        span.in_scope(|| tracing::info!("working"));
    };
    let close = parsed(&capture_with(LogFormat::Logfmt, SpanLines::Close, body));
    assert_eq!(close.len(), 2, "{close:?}");
    assert_eq!(get(&close[1], "span_event"), "close_span");
    // The close line carries every field the open line would have.
    assert_eq!(get(&close[1], "user"), "ada");
    assert_eq!(get(&close[1], "n"), "1");
    assert!(close[1].iter().any(|(k, _)| k == "latency_ms"));
    let off = parsed(&capture_with(LogFormat::Logfmt, SpanLines::Off, body));
    assert_eq!(off.len(), 1, "{off:?}");
    assert_eq!(get(&off[0], "msg"), "working");
    assert_eq!(get(&off[0], "user"), "ada");
}

/// The value of `key` in a JSON line (ids and plain strings only).
fn json_str<'a>(line: &'a str, key: &str) -> &'a str {
    let at = line
        .find(&format!("\"{key}\":\""))
        .unwrap_or_else(|| panic!("{key} in {line}"));
    let rest = &line[at + key.len() + 4..];
    &rest[..rest.find('"').unwrap()]
}

#[test]
fn a_span_that_follows_from_others_names_them_on_its_lines() {
    let body = || {
        let cause = tracing::info_span!("request");
        let other = tracing::info_span!("other");
        let task = crate::context::with_links(
            [cause.id(), other.id()],
            || tracing::info_span!(parent: None, "task"),
        );
        drop(task);
    };
    let lines = parsed(&capture(LogFormat::Logfmt, body));
    let [request, other, task_open, task_close, ..] = &lines[..] else {
        panic!("{lines:#?}");
    };
    let want = format!(
        "{}:{},{}:{}",
        get(request, "trace_id"),
        get(request, "span"),
        get(other, "trace_id"),
        get(other, "span")
    );
    for task in [task_open, task_close] {
        assert_eq!(get(task, "span_name"), "task");
        assert_eq!(get(task, "links"), want);
        let keys = keys(task);
        let at = keys.iter().position(|k| *k == "trace_id").unwrap();
        assert_eq!(keys[at + 1], "links", "{keys:?}");
    }

    let json = capture(LogFormat::Json, body);
    let want = format!(
        "{}:{},{}:{}",
        json_str(&json[0], "trace_id"),
        json_str(&json[0], "span"),
        json_str(&json[1], "trace_id"),
        json_str(&json[1], "span")
    );
    assert_eq!(json_str(&json[2], "links"), want);
    assert_eq!(json_str(&json[3], "links"), want);
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
    let body = || {
        drop(tracing::info_span!("same", n = 1_u64, s = "a b"));
        let changed = tracing::info_span!("changed", n = 1_u64, s = "a b");
        changed.record("n", 2_u64);
        drop(changed);
    };
    let lines = parsed(&capture(LogFormat::Logfmt, body));
    let json = capture(LogFormat::Json, body);
    assert_eq!(get(&lines[1], "n"), "1");
    assert_eq!(get(&lines[1], "s"), "a b");
    assert_eq!(get(&lines[3], "n"), "2");
    assert!(json[1].contains(r#","n":1,"s":"a b"}"#), "{}", json[1]);
    assert!(json[3].contains(r#","n":2,"s":"a b"}"#), "{}", json[3]);
}

#[test]
fn events_see_inherited_fields_as_they_change_and_their_own_fields_win() {
    for format in [LogFormat::Logfmt, LogFormat::Json] {
        let lines = capture(format, || {
            let parent = tracing::info_span!(
                "p",
                user = "ada",
                step = 1_u64,
                error.type = tracing::field::Empty
            );
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
            // A span-local field: not inherited, so the cached context stays as it is.
            parent.record("error.type", "500");
            tracing::info!("six");
        });
        let events: Vec<&String> = lines.iter().filter(|l| !l.contains("span_event")).collect();
        assert_eq!(events.len(), 6, "{lines:#?}");
        assert!(
            events.iter().all(|line| !line.contains("error.type")),
            "{lines:#?}"
        );
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
            ("ada", "2", "r-2"),
        ]) {
            assert!(has(line, "user", user), "{line}");
            assert!(has(line, "step", step), "{line}");
            assert!(has(line, "request_id", request), "{line}");
            assert_eq!(count(line, "user"), 1, "{line}");
        }
    }
}
