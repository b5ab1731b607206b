//! A label set seen before costs no allocation when its span closes.
//!
//! Counts this thread's allocations while spans are dropped (closed); span creation, which
//! the context store pays for, is outside the counted region.

// A counting global allocator: implementing `GlobalAlloc` takes `unsafe`.
#![allow(unsafe_code)]

mod metrics_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use metrics_support::{STACKS, dispatch, metrics};
use observe_runtime::metrics::MetricsConfig;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: the thread-locals may be gone while a thread tears down.
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's `layout` obligations are passed on to `System` as they are.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_while(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn closing_a_span_with_a_known_label_set_does_not_allocate() {
    const SPANS: usize = 1024;
    for stack in STACKS {
        let metrics = metrics(MetricsConfig::default());
        let (dispatch, _) = dispatch(&metrics, stack);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = |i: u64| {
                tracing::info_span!(
                    "save",
                    metric_name = "db_event",
                    metric_label_table = "events",
                    metric_label_shard = i % 2,
                    metric_label_ratio = 0.5,
                )
            };
            // First sight of each label set allocates (cache entries, recorder series),
            // which also shows that the counting works.
            let first = (span(0), span(1));
            assert!(allocations_while(|| drop(first)) > 0);

            let spans: Vec<_> = (0..SPANS as u64).map(span).collect();
            let allocations = allocations_while(|| drop(spans));
            // The exporter's histogram buffer grows in blocks of 64 observations; that is
            // its storage, not a per-call cost. Anything per call would show as >= SPANS.
            assert!(
                allocations <= SPANS / 64 * 2 + 2,
                "{stack:?}: {allocations} allocations for {SPANS} closes"
            );
        });
        assert!(
            metrics.render().contains(
                r#"db_event_total{table="events",shard="1",ratio="0.5",result="ok"} 513"#
            )
        );
    }
}

#[test]
fn overflowing_label_sets_do_not_allocate_either() {
    const SPANS: usize = 1024;
    let metrics = metrics(MetricsConfig {
        cardinality_limit: 1,
        ..MetricsConfig::default()
    });
    let (dispatch, warnings) = dispatch(&metrics, metrics_support::Stack::Alone);
    tracing::dispatcher::with_default(&dispatch, || {
        let span =
            |user: u64| tracing::info_span!("get", metric_name = "get", metric_label_user = user);
        // Fills the family and overflows once (the warning allocates, once).
        drop((span(0), span(1)));
        assert_eq!(warnings.load(std::sync::atomic::Ordering::SeqCst), 1);

        // Past the limit nothing is cached, so distinct values must stay cheap too.
        let spans: Vec<_> = (2..2 + SPANS as u64).map(span).collect();
        let allocations = allocations_while(|| drop(spans));
        assert!(
            allocations <= SPANS / 64 * 2 + 2,
            "{allocations} allocations for {SPANS} closes"
        );
    });
    let expected = format!("get_total{{otel_metric_overflow=\"true\"}} {}", SPANS + 1);
    assert!(metrics.render().contains(&expected));
}
