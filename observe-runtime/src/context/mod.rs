//! The span records: one [`SpanRecord`] per span with its ids, typed field values,
//! timing, outcome and links, which every signal reads.
//!
//! - `record.rs`: the record and how recorded fields update it;
//! - `create.rs`: a new record's place in its trace (parent, caller, or a new trace), its
//!   sampling decision and links;
//! - `handoff.rs`: a caller's trace context and a span's causes, handed to the record
//!   being made;
//! - `ids.rs`, `sampler.rs`: W3C ids and the `OTEL_TRACES_SAMPLER` decision;
//! - `scope.rs`: the fields in scope of a span, nearest first.

mod create;
mod handoff;
mod ids;
mod record;
mod sampler;
mod scope;

use tracing_subscriber::registry::{LookupSpan, SpanRef};

pub(crate) use create::{RecordSettings, create_record, link_to};
pub use handoff::with_links;
pub(crate) use handoff::{remote_parent, with_remote_parent};
pub use ids::{SpanId, TraceId};
pub use record::{Link, Outcome, SpanField, SpanRecord};
pub(crate) use record::{fields_changed, fields_generation};
pub use sampler::Sampler;
pub use scope::visit_scope;

/// Runs `read` on the span's record, if it has one.
///
/// ```
/// use observe_runtime::context::with_record;
/// use observe_runtime::metrics::Metrics;
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::registry::LookupSpan;
///
/// let metrics = Metrics::new(Default::default()).unwrap();
/// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(metrics.layer()));
/// tracing::dispatcher::with_default(&dispatch, || {
///     let span = tracing::info_span!("job", metric_name = "job", attempt = 2_u64);
///     let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>().unwrap();
///     let span_ref = registry.span(&span.id().unwrap()).unwrap();
///     let attempt = with_record(&span_ref, |record| record.field("attempt").cloned());
///     assert_eq!(attempt.flatten().unwrap().to_string(), "2");
/// });
/// ```
pub fn with_record<'a, R, T>(
    span: &SpanRef<'a, R>,
    read: impl FnOnce(&SpanRecord) -> T,
) -> Option<T>
where
    R: LookupSpan<'a>,
{
    span.extensions().get::<SpanRecord>().map(read)
}

#[cfg(test)]
mod tests;
