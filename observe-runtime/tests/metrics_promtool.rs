//! `promtool check metrics` (Debian package `prometheus`) accepts what we render.
//!
//! Needs `promtool` on PATH (or `PROMTOOL=/path/to/promtool`); CI installs it. Without it
//! these tests fail, never skip: a lint that silently does not run lints nothing.

mod metrics_support;

use std::io::Write;
use std::process::{Command, Stdio};

use metrics_support::{Stack, dispatch, metrics};
use observe_runtime::metrics::MetricsConfig;

fn promtool_check(text: &str) {
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{promtool} check metrics` ({e}): install promtool \
                 (Debian/Ubuntu: `apt-get install prometheus`) or set PROMTOOL=/path/to/promtool"
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .expect("promtool reads stdin");
    let out = child.wait_with_output().expect("promtool runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim().is_empty() && stderr.trim().is_empty(),
        "promtool check metrics: {}\nstdout:\n{stdout}\nstderr:\n{stderr}\nexposition:\n{text}",
        out.status
    );
}

#[test]
fn promtool_accepts_the_exposition() {
    let metrics = metrics(MetricsConfig {
        cardinality_limit: 5,
        ..MetricsConfig::default()
    });
    metrics.add_process_collector();
    metrics.add_collector(|| {
        metrics::describe_counter!("observe_log_lines_dropped_total", "Log lines dropped.");
        metrics::counter!("observe_log_lines_dropped_total").absolute(0);
    });
    let (dispatch, _) = dispatch(&metrics, Stack::WithLogs);
    tracing::dispatcher::with_default(&dispatch, || {
        for kind in ["Song", "Album \"quoted\"", "multi\nline", "back\\slash"] {
            let _ = tracing::info_span!(
                "save",
                metric_name = "db_event",
                metric_label_event_table = "events",
                metric_label_event_type = kind,
            );
        }
        drop(tracing::info_span!(
            "save",
            metric_name = "db_event",
            metric_label_event_table = "x",
            observe.result = "error"
        ));
        for n in 0..10_u64 {
            let _ = tracing::info_span!(
                "f",
                metric_name = "function_calls",
                metric_label_function = n
            );
        }
    });
    let text = metrics.render();
    assert!(text.contains("otel_metric_overflow=\"true\""), "{text}");
    assert!(
        text.contains("# TYPE process_cpu_seconds_total counter\n"),
        "{text}"
    );
    assert!(text.contains("observe_log_lines_dropped_total 0"), "{text}");
    promtool_check(&text);
}

#[test]
fn promtool_rejects_a_broken_exposition() {
    // Proves the check above can fail, on a lint and on a parse error.
    for broken in ["# HELP x x\n# TYPE x counter\nx 1\n", "x{a=\"1\" 1\n"] {
        let result = std::panic::catch_unwind(|| promtool_check(broken));
        assert!(result.is_err(), "{broken:?}");
    }
}
