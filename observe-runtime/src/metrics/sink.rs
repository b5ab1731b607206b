//! The metrics signal's part of the [`Signals`](crate::Signals) layer: a closed span that
//! names a metric becomes one counter increment and one histogram observation.

use std::sync::Arc;

use tracing_core::subscriber::NoSubscriber;

use super::recording::{Overflowed, Recording};
use crate::context::SpanRecord;

/// What the layer records closed spans into: a handle on a [`Metrics`](super::Metrics)
/// registry's recording.
#[derive(Clone, Debug)]
pub(crate) struct MetricsSink {
    recording: Arc<Recording>,
}

impl MetricsSink {
    pub(crate) fn new(recording: Arc<Recording>) -> Self {
        MetricsSink { recording }
    }

    /// Counts the closed span and observes its latency, if it names a metric.
    #[inline]
    pub(crate) fn observe(&self, record: &SpanRecord) -> Option<Overflowed> {
        self.recording.observe(record.metadata, record)
    }

    /// Counts the opening span in its in-flight gauge until the span closes (the record
    /// keeps the call, and drops it then).
    pub(crate) fn start_call(&self, record: &mut SpanRecord) -> Option<Overflowed> {
        let (call, overflowed) = self.recording.start_call(record)?;
        record.in_flight = Some(call);
        overflowed
    }

    /// Makes an observed function's series at 0 (see [`Recording::register`]).
    pub(crate) fn register(&self, entry: &crate::observed::ObservedFn) {
        self.recording.register(entry);
    }
}

/// Logged through tracing, so it lands in the service's log like any other line. Called
/// once the span's extensions and every lock of this module are released.
///
/// tracing drops events raised while the thread's dispatcher is busy (a parent span closed
/// by its last child, under a scoped dispatcher) or when there is none; then the warning goes
/// to stderr, since it is given only once.
#[cold]
pub(crate) fn warn_overflow(overflowed: &Overflowed) {
    let deliverable = tracing::dispatcher::get_default(|dispatch| !dispatch.is::<NoSubscriber>());
    if !deliverable {
        eprintln!(
            "observe: metric {} has reached its limit of {} label sets; further label sets are \
             counted in the series labelled otel_metric_overflow=\"true\"",
            overflowed.metric, overflowed.limit,
        );
        return;
    }
    tracing::warn!(
        metric = &*overflowed.metric,
        cardinality_limit = overflowed.limit,
        "metric {} has reached its limit of {} label sets; further label sets are counted in \
         the series labelled otel_metric_overflow=\"true\"",
        overflowed.metric,
        overflowed.limit,
    );
}
