//! The context store: one [`SpanRecord`] per span with its ids, typed field values,
//! creation time and outcome, read by the log and metrics layers.
//!
//! [`ContextLayer`] keeps the records. The log and metrics layers keep them too when used
//! without it, so each layer works on its own with a `Registry`; stacked, they share one.

mod ids;
mod record;
mod scope;
mod store;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

pub use ids::{SpanId, TraceId};
pub(crate) use record::{CONTEXT_NAMES, EncodedContext, fields_generation};
pub use record::{Outcome, SpanField, SpanRecord};
pub use scope::visit_scope;
pub(crate) use store::Store;

/// A layer that keeps a [`SpanRecord`] for every span.
///
/// Put it inside (before, in `.with(..)` order) the layers that read records; put the
/// OpenTelemetry layer inside it and call [`with_otel_ids`](Self::with_otel_ids) so that
/// records carry OpenTelemetry's trace and span ids.
///
/// ```
/// use observe_runtime::context::ContextLayer;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(ContextLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("request", user = "ada").entered();
/// });
/// ```
#[derive(Debug, Default)]
pub struct ContextLayer {
    store: Store,
    /// A layer outside closes every record (`init`'s log layer does), so this one need
    /// not look the span up again on close.
    closed_outside: bool,
}

impl ContextLayer {
    /// A context layer that draws its own W3C-shaped trace and span ids.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes trace and span ids from tracing-opentelemetry's layer, which must sit inside
    /// this one, so that log lines and exported spans share their ids. Spans the
    /// OpenTelemetry layer does not see fall back to drawn ids.
    ///
    /// ```
    /// use observe_runtime::context::ContextLayer;
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let otel = tracing_opentelemetry::layer();
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(otel)
    ///     .with(ContextLayer::new().with_otel_ids());
    /// # drop(subscriber);
    /// ```
    pub fn with_otel_ids(self) -> Self {
        ContextLayer {
            store: self.store.with_otel_ids(true),
            ..self
        }
    }

    /// For `init`, whose log layer (outside this one) closes every record itself.
    pub(crate) fn closed_outside(self) -> Self {
        ContextLayer {
            closed_outside: true,
            ..self
        }
    }
}

impl<S> Layer<S> for ContextLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.store.register(dispatch);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.store.on_new_span(attrs, id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.store.on_record(id, values, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.store.on_event(event, &ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.closed_outside {
            return;
        }
        if let Some(span) = ctx.span(&id) {
            close_record(&span, |_| ());
        }
    }
}

/// Runs `read` on the span's record, if it has one.
///
/// ```
/// use observe_runtime::context::{ContextLayer, with_record};
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::registry::LookupSpan;
///
/// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(ContextLayer::new()));
/// tracing::dispatcher::with_default(&dispatch, || {
///     let span = tracing::info_span!("job", attempt = 2_u64);
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

/// Closes the span's record and returns it for reading: latency fixed, outcome final.
pub(crate) fn close_record<'a, R, T>(
    span: &SpanRef<'a, R>,
    read: impl FnOnce(&SpanRecord) -> T,
) -> Option<T>
where
    R: LookupSpan<'a>,
{
    let mut extensions = span.extensions_mut();
    let record = extensions.get_mut::<SpanRecord>()?;
    record.close();
    Some(read(record))
}

#[cfg(test)]
mod tests;
