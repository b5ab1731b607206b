//! Many threads closing spans at once: every call counted, none twice.

mod metrics_support;

use std::sync::Barrier;

use metrics_support::{STACKS, dispatch, metrics, named, samples};
use observe_runtime::metrics::MetricsConfig;

const THREADS: usize = 4;
const SPANS: usize = 10_000;

#[test]
fn four_threads_count_exactly() {
    for stack in STACKS {
        let metrics = metrics(MetricsConfig::default());
        let (dispatch, _) = dispatch(&metrics, stack);
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let (dispatch, barrier) = (&dispatch, &barrier);
                scope.spawn(move || {
                    tracing::dispatcher::with_default(dispatch, || {
                        barrier.wait();
                        for i in 0..SPANS {
                            // A label shared by all threads and one of their own.
                            let span = tracing::info_span!(
                                "work",
                                metric_name = "work",
                                metric_label_shard = i % 4,
                                metric_label_thread = thread,
                                observe.result = tracing::field::Empty,
                            );
                            if i % 10 == 0 {
                                span.record("observe.result", "error");
                            }
                        }
                    });
                });
            }
        });
        let text = metrics.render();
        let all = samples(&text);
        let total = named(&all, "work_total");
        // Errors fall on even i, so on shards 0 and 2 only: 4 ok + 2 error series per thread.
        assert_eq!(total.len(), THREADS * 6, "{stack:?}:\n{text}");
        for thread in 0..THREADS {
            let thread = thread.to_string();
            let of_thread = |result: &str| -> f64 {
                total
                    .iter()
                    .filter(|s| {
                        s.label("thread") == Some(&thread) && s.label("result") == Some(result)
                    })
                    .map(|s| s.value)
                    .sum()
            };
            assert_eq!(of_thread("ok"), (SPANS - SPANS / 10) as f64, "{stack:?}");
            assert_eq!(of_thread("error"), (SPANS / 10) as f64, "{stack:?}");
        }
        let counts = named(&all, "work_duration_seconds_count");
        assert_eq!(
            counts.iter().map(|s| s.value).sum::<f64>(),
            (THREADS * SPANS) as f64
        );
    }
}

#[test]
fn many_threads_racing_for_new_label_sets_respect_the_limit() {
    let metrics = metrics(MetricsConfig {
        cardinality_limit: 100,
        ..MetricsConfig::default()
    });
    let (dispatch, warnings) = dispatch(&metrics, metrics_support::Stack::Alone);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let dispatch = &dispatch;
            scope.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    for user in 0..500_u32 {
                        let _ = tracing::info_span!(
                            "r",
                            metric_name = "race",
                            metric_label_user = user
                        );
                    }
                });
            });
        }
    });
    let all = samples(&metrics.render());
    let total = named(&all, "race_total");
    assert_eq!(total.len(), 101);
    assert_eq!(
        total.iter().map(|s| s.value).sum::<f64>(),
        (THREADS * 500) as f64
    );
    assert_eq!(warnings.load(std::sync::atomic::Ordering::SeqCst), 1);
}
