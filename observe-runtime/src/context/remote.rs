//! Ids that cross a process boundary: a caller's trace context handed to the next root
//! span, and the current span's ids for an outgoing call.

use std::cell::Cell;

#[cfg(feature = "http")]
use tracing_subscriber::{Registry, registry::LookupSpan};

use super::ids::{SpanId, TraceId};
#[cfg(feature = "http")]
use super::with_record;

thread_local! {
    static REMOTE_PARENT: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
}

#[cfg(feature = "http")]
/// Runs `create` with `parent` as the remote parent of the root span it creates, so that
/// a request continues its caller's trace in the log lines even with OpenTelemetry off.
pub(crate) fn with_remote_parent<R>(
    parent: Option<(TraceId, SpanId)>,
    create: impl FnOnce() -> R,
) -> R {
    struct Reset(Option<(TraceId, SpanId)>);
    impl Drop for Reset {
        fn drop(&mut self) {
            REMOTE_PARENT.with(|cell| cell.set(self.0));
        }
    }
    let _reset = Reset(REMOTE_PARENT.with(|cell| cell.replace(parent)));
    create()
}

/// The remote parent for a root span being created now, if the HTTP layer set one.
pub(crate) fn remote_parent() -> Option<(TraceId, SpanId)> {
    REMOTE_PARENT.with(Cell::get)
}

#[cfg(feature = "http")]
/// The trace and span ids the context store gave the current span.
pub(crate) fn current_ids() -> Option<(TraceId, SpanId)> {
    let id = tracing::Span::current().id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(&id)?;
        with_record(&span, |record| (record.trace_id(), record.span_id()))
    })
}

#[cfg(feature = "http")]
/// A fresh random id, for callers that need unique bits (request ids).
pub(crate) fn random_trace_id() -> TraceId {
    super::ids::new_trace_id()
}
