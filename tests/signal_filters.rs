//! One filter per signal, through `init` and the environment: `RUST_LOG` decides the log
//! lines, `OBSERVE_METRICS_FILTER` the counted calls, `OBSERVE_TRACES_FILTER` the exported
//! spans, each without touching the others. Each combination runs in a child process.

mod reliability_common;

use std::time::Duration;

use observe::observe;
use observe::runtime::log::writer::MemorySink;
use observe_testkit::logfmt::parse_lines;
use observe_testkit::otlp::Receiver;
use reliability_common::*;

const CALLS: u64 = 20_000;

#[observe(metric = "lookup", skip_all)]
fn lookup(n: u64) -> u64 {
    if n == 7 {
        tracing::warn!(n, "slow lookup");
    }
    n * 2
}

#[observe(metric = "audit", level = "warn", skip_all)]
fn audit() {}

#[observe(metric = "probe", level = "debug", skip_all)]
fn probe() -> bool {
    tracing::Span::current().is_none()
}

/// Calls everything, then reports what each signal got.
#[test]
#[ignore = "child process of the filter tests"]
fn child_signals() {
    if !is_child("child_signals") {
        return;
    }
    let logs = MemorySink::new();
    let receiver = Receiver::start_http();
    let guard = observe::runtime::config::Config::new()
        .log_writer(logs.clone())
        .otlp_endpoint(receiver.endpoint())
        .init()
        .expect("init");
    for n in 0..CALLS {
        lookup(n);
    }
    audit();
    let probe_disabled = probe();
    let text = guard.metrics_text();
    assert!(guard.flush_traces(Duration::from_secs(10)));
    drop(guard);
    let lines = parse_lines(&String::from_utf8(logs.contents()).unwrap()).unwrap();
    let value = |line: &Vec<(String, String)>, key: &str| {
        line.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let span_lines = |name: &str| {
        lines
            .iter()
            .filter(|l| value(l, "span_name") == name && value(l, "span_event") == "close_span")
            .count()
    };
    report(
        "lookup_counted",
        sample(&text, r#"lookup_total{result="ok"}"#).unwrap_or(0.0),
    );
    report(
        "audit_counted",
        sample(&text, r#"audit_total{result="ok"}"#).unwrap_or(0.0),
    );
    report(
        "probe_counted",
        sample(&text, r#"probe_total{result="ok"}"#).unwrap_or(0.0),
    );
    report("lookup_close_lines", span_lines("lookup"));
    report("audit_close_lines", span_lines("audit"));
    let warning = lines.iter().find(|l| value(l, "msg") == "slow lookup");
    report("warning_logged", warning.is_some());
    if let Some(warning) = warning {
        report(
            "warning_has_trace_id",
            value(warning, "trace_id").len() == 32,
        );
    }
    let spans = receiver.spans();
    let exported = |name: &str| spans.iter().filter(|s| s.name == name).count();
    report("lookup_exported", exported("lookup"));
    report("audit_exported", exported("audit"));
    report("probe_disabled", probe_disabled);
}

fn run(envs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    // Room for every span, so that a slow export on a loaded machine drops none.
    let room = [("OTEL_BSP_MAX_QUEUE_SIZE", "65536")];
    let envs: Vec<(&str, String)> = envs
        .iter()
        .chain(&room)
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    let (output, _) = run_child("child_signals", &envs, Duration::from_secs(120));
    assert_success("child_signals", &output);
    reports(&output)
}

#[test]
fn metrics_do_not_depend_on_the_log_level() {
    let r = run(&[("RUST_LOG", "warn")]);
    assert_eq!(r["lookup_counted"], CALLS.to_string(), "{r:?}");
    assert_eq!(
        r["lookup_close_lines"], "0",
        "info spans are not logged: {r:?}"
    );
    assert_eq!(r["warning_logged"], "true", "{r:?}");
    assert_eq!(
        r["warning_has_trace_id"], "true",
        "the context of unlogged spans stays"
    );
    assert_eq!(r["audit_close_lines"], "1");
    assert_eq!(
        r["lookup_exported"],
        CALLS.to_string(),
        "traces keep their own filter"
    );
}

#[test]
fn by_default_every_level_is_counted_and_info_up_logged_and_exported() {
    let r = run(&[]);
    assert_eq!(r["lookup_counted"], CALLS.to_string());
    assert_eq!(r["probe_counted"], "1", "a debug call is counted");
    assert_eq!(r["probe_disabled"], "false");
    assert_eq!(r["lookup_close_lines"], CALLS.to_string());
    assert_eq!(r["lookup_exported"], CALLS.to_string());
}

#[test]
fn each_filter_leaves_the_other_signals_alone() {
    let r = run(&[("OBSERVE_METRICS_FILTER", "off")]);
    assert_eq!(r["lookup_counted"], "0");
    assert_eq!(r["lookup_close_lines"], CALLS.to_string());
    assert_eq!(r["lookup_exported"], CALLS.to_string());

    let r = run(&[("OBSERVE_TRACES_FILTER", "warn")]);
    assert_eq!(r["lookup_exported"], "0");
    assert_eq!(r["audit_exported"], "1");
    assert_eq!(r["lookup_counted"], CALLS.to_string());
    assert_eq!(r["lookup_close_lines"], CALLS.to_string());

    let r = run(&[("OBSERVE_METRICS_FILTER", "warn,signal_filters=info")]);
    assert_eq!(r["lookup_counted"], CALLS.to_string(), "target directives");
    assert_eq!(r["probe_counted"], "0");
}

#[test]
fn a_span_every_filter_excludes_is_not_made() {
    let r = run(&[
        ("RUST_LOG", "info"),
        ("OBSERVE_METRICS_FILTER", "info"),
        ("OBSERVE_TRACES_FILTER", "info"),
    ]);
    assert_eq!(r["probe_disabled"], "true", "{r:?}");
    assert_eq!(r["probe_counted"], "0");
    let r = run(&[
        ("RUST_LOG", "off"),
        ("OBSERVE_METRICS_FILTER", "off"),
        ("OBSERVE_TRACES_FILTER", "off"),
    ]);
    assert_eq!(r["lookup_counted"], "0");
    assert_eq!(r["lookup_close_lines"], "0");
    assert_eq!(r["lookup_exported"], "0");
}

#[test]
fn span_directives_work_per_signal() {
    // Debug spans only inside `lookup` spans (none here: probe runs alone) for logs; the
    // metrics filter is not concerned.
    let r = run(&[("RUST_LOG", "warn,signal_filters[lookup]=debug")]);
    assert_eq!(r["lookup_counted"], CALLS.to_string());
    assert_eq!(r["warning_logged"], "true");
    assert_eq!(r["lookup_close_lines"], CALLS.to_string(), "{r:?}");
}
