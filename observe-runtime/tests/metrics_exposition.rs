//! What the metrics layer renders for spans: names, labels, order, outcomes, histograms.

mod metrics_support;

use metrics_support::{STACKS, dispatch, lines_starting, metrics, samples};
use observe_runtime::metrics::{DEFAULT_BUCKETS, MetricsConfig};
use tracing::field::Empty;

fn save_event(kind: &str) -> tracing::Span {
    tracing::info_span!(
        "save_event",
        metric_name = "db_event",
        metric_label_event_table = "events",
        metric_label_event_type = kind,
        observe.result = Empty,
    )
}

#[test]
fn counts_by_declared_labels_and_result() {
    for stack in STACKS {
        let metrics = metrics(MetricsConfig::default());
        let (dispatch, _) = dispatch(&metrics, stack);
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..3 {
                let _span = save_event("Song").entered();
            }
            // An ERROR event is a log line; the outcome is what the call recorded.
            save_event("Song").in_scope(|| tracing::error!("insert failed"));
            save_event("Song").record("observe.result", "error");
            save_event("Song").record("observe.result", "panic");
            save_event("Song").record("observe.result", "cancelled");
            let _ = save_event("Album");
        });
        let text = metrics.render();
        let total = lines_starting(&text, "db_event_total");
        let mut total = total.clone();
        total.sort_unstable();
        assert_eq!(
            total,
            [
                r#"db_event_total{event_table="events",event_type="Album",result="ok"} 1"#,
                r#"db_event_total{event_table="events",event_type="Song",result="cancelled"} 1"#,
                r#"db_event_total{event_table="events",event_type="Song",result="error"} 2"#,
                r#"db_event_total{event_table="events",event_type="Song",result="ok"} 4"#,
            ],
            "{stack:?}:\n{text}"
        );
        assert!(text.contains("# TYPE db_event_total counter\n"), "{text}");
        assert!(
            text.contains("# TYPE db_event_duration_seconds histogram\n"),
            "{text}"
        );
        assert!(text.contains("# HELP db_event_total "), "{text}");
        assert!(text.contains("# HELP db_event_duration_seconds "), "{text}");
        assert!(
            !text.contains("quantile"),
            "histograms, never summaries:\n{text}"
        );

        // Default buckets, in order, cumulative, closed by +Inf = _count.
        let all = samples(&text);
        let ok_song = |s: &&metrics_support::Sample| {
            s.label("event_type") == Some("Song") && s.label("result") == Some("ok")
        };
        let buckets: Vec<_> = all
            .iter()
            .filter(|s| s.name == "db_event_duration_seconds_bucket")
            .filter(ok_song)
            .collect();
        let les: Vec<&str> = buckets.iter().map(|s| s.label("le").unwrap()).collect();
        // Written as Prometheus normalises `le`: a whole number with `.0`.
        let expected: Vec<String> = DEFAULT_BUCKETS
            .iter()
            .map(|bound| match bound.to_string() {
                whole if !whole.contains('.') => whole + ".0",
                text => text,
            })
            .chain(["+Inf".to_string()])
            .collect();
        assert_eq!(les, expected, "{text}");
        for s in &buckets {
            let keys: Vec<&str> = s.labels.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["event_table", "event_type", "result", "le"], "{s:?}");
        }
        assert!(
            buckets.windows(2).all(|w| w[0].value <= w[1].value),
            "{text}"
        );
        assert_eq!(buckets.last().unwrap().value, 4.0);
        let count = all
            .iter()
            .filter(|s| s.name == "db_event_duration_seconds_count")
            .find(ok_song)
            .unwrap();
        assert_eq!(count.value, 4.0);
        let sum = all
            .iter()
            .filter(|s| s.name == "db_event_duration_seconds_sum")
            .find(ok_song)
            .unwrap();
        assert!(sum.value >= 0.0 && sum.value < 4.0 * 10.0, "{text}");
    }
}

#[test]
fn histogram_lines_with_configured_buckets() {
    // Bounds no test span can reach, so that every count below is exact.
    let metrics = metrics(MetricsConfig {
        buckets: vec![600.0, 3600.0],
        ..MetricsConfig::default()
    });
    let (dispatch, _) = dispatch(&metrics, metrics_support::Stack::Alone);
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..2 {
            let _ = tracing::info_span!("q", metric_name = "query", metric_label_db = "main");
        }
        drop(tracing::info_span!(
            "q",
            metric_name = "query",
            metric_label_db = "main",
            error = "boom"
        ));
    });
    let text = metrics.render();
    let mut lines: Vec<&str> = lines_starting(&text, "query_")
        .into_iter()
        .filter(|l| !l.starts_with("query_duration_seconds_sum"))
        .collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            r#"query_duration_seconds_bucket{db="main",result="error",le="+Inf"} 1"#,
            r#"query_duration_seconds_bucket{db="main",result="error",le="3600.0"} 1"#,
            r#"query_duration_seconds_bucket{db="main",result="error",le="600.0"} 1"#,
            r#"query_duration_seconds_bucket{db="main",result="ok",le="+Inf"} 2"#,
            r#"query_duration_seconds_bucket{db="main",result="ok",le="3600.0"} 2"#,
            r#"query_duration_seconds_bucket{db="main",result="ok",le="600.0"} 2"#,
            r#"query_duration_seconds_count{db="main",result="error"} 1"#,
            r#"query_duration_seconds_count{db="main",result="ok"} 2"#,
            r#"query_total{db="main",result="error"} 1"#,
            r#"query_total{db="main",result="ok"} 2"#,
        ],
        "{text}"
    );
    assert_eq!(lines_starting(&text, "query_duration_seconds_sum").len(), 2);
}

#[test]
fn label_values_are_formatted_and_keep_declaration_order() {
    for stack in STACKS {
        let metrics = metrics(MetricsConfig::default());
        let (dispatch, _) = dispatch(&metrics, stack);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!(
                "typed",
                metric_name = "typed",
                metric_label_zone = "z",
                metric_label_attempt = 2_u64,
                metric_label_delta = -3_i64,
                metric_label_ratio = 0.5,
                metric_label_retry = true,
                metric_label_kind = ?Some(1),
                metric_label_late = Empty,
            );
            span.record("metric_label_late", "yes");
            drop(span);
            // The macro without `metric`: no special case needed.
            let _ = tracing::info_span!(
                "f",
                metric_name = "function_calls",
                metric_label_function = "save",
                metric_label_module = "songs::db",
            );
        });
        let text = metrics.render();
        assert_eq!(
            lines_starting(&text, "typed_total"),
            [concat!(
                r#"typed_total{zone="z",attempt="2",delta="-3",ratio="0.5",retry="true","#,
                r#"kind="Some(1)",late="yes",result="ok"} 1"#
            )],
            "{stack:?}:\n{text}"
        );
        assert_eq!(
            lines_starting(&text, "function_calls_total"),
            [r#"function_calls_total{function="save",module="songs::db",result="ok"} 1"#],
        );
        // The same value as text and as a number is one series.
        let (dispatch, _) = metrics_support::dispatch(&metrics, stack);
        tracing::dispatcher::with_default(&dispatch, || {
            let _ = tracing::info_span!("n", metric_name = "same", metric_label_n = 7_u64);
            let _ = tracing::info_span!("n", metric_name = "same", metric_label_n = "7");
        });
        let text = metrics.render();
        assert_eq!(
            lines_starting(&text, "same_total"),
            [r#"same_total{n="7",result="ok"} 2"#]
        );
    }
}

#[test]
fn label_values_are_escaped() {
    let metrics = metrics(MetricsConfig::default());
    let (dispatch, _) = dispatch(&metrics, metrics_support::Stack::Alone);
    tracing::dispatcher::with_default(&dispatch, || {
        let _ = tracing::info_span!("e", metric_name = "esc", metric_label_v = "a\"b\\c\nd");
    });
    let text = metrics.render();
    let all = samples(&text);
    let total = metrics_support::named(&all, "esc_total");
    assert_eq!(total.len(), 1, "{text}");
    assert_eq!(total[0].label("v"), Some("a\"b\\c\nd"));
}

#[test]
fn spans_without_metric_fields_make_no_series() {
    for stack in STACKS {
        let metrics = metrics(MetricsConfig::default());
        let (dispatch, _) = dispatch(&metrics, stack);
        tracing::dispatcher::with_default(&dispatch, || {
            let parent = tracing::info_span!("request", user = "ada", metric_label_orphan = "x");
            parent.in_scope(|| {
                tracing::info_span!("inner", n = 1).in_scope(|| tracing::error!("failed"));
                // A metric span inside plain spans still counts, with only its own labels.
                let _ = tracing::info_span!("save", metric_name = "nested");
            });
            let _ = tracing::info_span!("empty", metric_name = Empty);
        });
        let text = metrics.render();
        let names: Vec<String> = samples(&text).into_iter().map(|s| s.name).collect();
        assert!(
            names.iter().all(|n| n.starts_with("nested_")),
            "{stack:?}: only the metric span makes series:\n{text}"
        );
        assert_eq!(
            lines_starting(&text, "nested_total"),
            [r#"nested_total{result="ok"} 1"#]
        );
    }
}
