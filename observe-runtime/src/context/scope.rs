//! The fields in scope of a span: its own, then those its ancestors pass down.

use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::record::{SpanField, SpanRecord};
use crate::fields::is_span_local;

/// Calls `visit` for every field in scope of `span`, each name once: the span's own fields
/// in declaration order, then the fields inherited from its ancestors, nearest first.
/// `metric_*`, `otel.*`, `observe.*` and `error` describe one span and are not inherited.
///
/// `seen` holds names already written (an event's own fields, say); they are skipped, and
/// every visited name is added. Ancestors are read in place, never copied: the registry
/// keeps them alive while a child lives.
///
/// ```
/// use observe_runtime::Signals;
/// use observe_runtime::context::visit_scope;
/// use observe_runtime::filter::SignalFilter;
/// use observe_runtime::log::{LogOutput, writer::MemorySink};
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::registry::LookupSpan;
///
/// let signals = Signals::builder()
///     .logs(LogOutput::new(MemorySink::new()), SignalFilter::all())
///     .build();
/// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(signals));
/// tracing::dispatcher::with_default(&dispatch, || {
///     let request = tracing::info_span!("request", request_id = "r-1", user = "ada");
///     let query = request.in_scope(|| tracing::info_span!("query", user = "bob"));
///     let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>().unwrap();
///     let span = registry.span(&query.id().unwrap()).unwrap();
///     let mut names = Vec::new();
///     visit_scope(&span, &mut Vec::new(), |field| names.push((field.name, field.value.to_string())));
///     assert_eq!(names, [("user", "bob".to_string()), ("request_id", "r-1".to_string())]);
/// });
/// ```
pub fn visit_scope<'a, R>(
    span: &SpanRef<'a, R>,
    seen: &mut Vec<&'static str>,
    mut visit: impl FnMut(&SpanField),
) where
    R: LookupSpan<'a>,
{
    let mut inherited_only = false;
    for ancestor in span.scope() {
        let extensions = ancestor.extensions();
        if let Some(record) = extensions.get::<SpanRecord>() {
            for field in record.fields() {
                if (inherited_only && is_span_local(field.name)) || seen.contains(&field.name) {
                    continue;
                }
                seen.push(field.name);
                visit(field);
            }
        }
        inherited_only = true;
    }
}
