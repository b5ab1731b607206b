//! The cardinality guard: a bounded number of label sets per metric, then one overflow series.

mod metrics_support;

use std::sync::atomic::Ordering;

use metrics_support::{STACKS, Sample, dispatch, metrics, named, samples};
use observe_runtime::metrics::MetricsConfig;

fn user_spans(metric: &'static str, users: std::ops::Range<u32>) {
    for user in users {
        let _ = tracing::info_span!("lookup", metric_name = metric, metric_label_user = user);
    }
}

fn regular(series: &[&Sample]) -> usize {
    series
        .iter()
        .filter(|s| s.label("otel_metric_overflow").is_none())
        .count()
}

#[test]
fn past_the_limit_observations_go_to_one_overflow_series() {
    for stack in STACKS {
        let metrics = metrics(MetricsConfig::default()); // limit 1000
        let (dispatch, warnings) = dispatch(&metrics, stack);
        tracing::dispatcher::with_default(&dispatch, || user_spans("lookup", 0..1500));

        let text = metrics.render();
        let all = samples(&text);
        let total = named(&all, "lookup_total");
        assert_eq!(regular(&total), 1000, "{stack:?}");
        assert!(
            total
                .iter()
                .filter(|s| s.label("user").is_some())
                .all(|s| s.value == 1.0)
        );
        let overflow: Vec<_> = total
            .iter()
            .filter(|s| s.label("otel_metric_overflow").is_some())
            .collect();
        assert_eq!(overflow.len(), 1, "{stack:?}: {overflow:?}");
        assert_eq!(
            overflow[0].labels,
            [("otel_metric_overflow".to_string(), "true".to_string())],
            "the overflow series has no other label"
        );
        assert_eq!(overflow[0].value, 500.0);
        assert_eq!(total.iter().map(|s| s.value).sum::<f64>(), 1500.0);
        let counts = named(&all, "lookup_duration_seconds_count");
        assert_eq!(counts.len(), 1001);
        assert_eq!(counts.iter().map(|s| s.value).sum::<f64>(), 1500.0);
        assert!(text.contains(
            r#"lookup_duration_seconds_bucket{otel_metric_overflow="true",le="+Inf"} 500"#
        ));
        assert_eq!(warnings.load(Ordering::SeqCst), 1, "{stack:?}: warned once");

        // Known label sets keep their series; new ones keep overflowing; no second warning.
        tracing::dispatcher::with_default(&dispatch, || {
            user_spans("lookup", 0..10);
            user_spans("lookup", 5000..5100);
            // A new result is a new label set.
            drop(tracing::info_span!(
                "lookup",
                metric_name = "lookup",
                metric_label_user = 1_u32,
                observe.result = "error"
            ));
        });
        let all = samples(&metrics.render());
        let total = named(&all, "lookup_total");
        assert_eq!(regular(&total), 1000);
        assert_eq!(
            total
                .iter()
                .find(|s| s.label("user") == Some("3"))
                .unwrap()
                .value,
            2.0
        );
        let overflow = total
            .iter()
            .find(|s| s.label("otel_metric_overflow").is_some())
            .unwrap();
        assert_eq!(overflow.value, 601.0);
        assert_eq!(warnings.load(Ordering::SeqCst), 1, "{stack:?}: still once");

        // Each metric has its own limit and its own warning.
        tracing::dispatcher::with_default(&dispatch, || user_spans("other", 0..1001));
        let all = samples(&metrics.render());
        assert_eq!(regular(&named(&all, "other_total")), 1000);
        assert_eq!(regular(&named(&all, "lookup_total")), 1000);
        assert_eq!(warnings.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn the_limit_is_configurable() {
    let metrics = metrics(MetricsConfig {
        cardinality_limit: 3,
        ..MetricsConfig::default()
    });
    let (dispatch, warnings) = dispatch(&metrics, metrics_support::Stack::Alone);
    tracing::dispatcher::with_default(&dispatch, || user_spans("small", 0..10));
    let all = samples(&metrics.render());
    let total = named(&all, "small_total");
    assert_eq!(regular(&total), 3);
    assert_eq!(total.iter().map(|s| s.value).sum::<f64>(), 10.0);
    assert_eq!(warnings.load(Ordering::SeqCst), 1);

    // No label set at all is no metric: refused, as `Config::cardinality_limit(0)` is.
    let err = observe_runtime::metrics::Metrics::new(MetricsConfig {
        cardinality_limit: 0,
        ..MetricsConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.variable(), "MetricsConfig::cardinality_limit");
}

#[test]
fn the_warning_is_logged_when_the_closing_span_is_closed_by_its_child() {
    // A parent whose handle is gone closes when its last child does, from inside the
    // registry's close of the child; the warning must still reach the log, once.
    let metrics = metrics(MetricsConfig {
        cardinality_limit: 1,
        ..MetricsConfig::default()
    });
    let (dispatch, warnings) = dispatch(&metrics, metrics_support::Stack::Alone);
    tracing::dispatcher::with_default(&dispatch, || {
        for user in 0..3_u32 {
            let parent = tracing::info_span!("p", metric_name = "parent", metric_label_user = user);
            let child = tracing::info_span!(parent: &parent, "child");
            drop(parent);
            drop(child);
        }
    });
    let all = samples(&metrics.render());
    assert_eq!(
        named(&all, "parent_total")
            .iter()
            .map(|s| s.value)
            .sum::<f64>(),
        3.0
    );
    assert_eq!(warnings.load(Ordering::SeqCst), 1);
}
