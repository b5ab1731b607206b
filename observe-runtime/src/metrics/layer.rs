//! The tracing layer: closed spans that name a metric become observations.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::NoSubscriber;
use tracing_core::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::recording::{Overflowed, Recording};
use crate::context::{Store, close_record};
use crate::fields::METRIC_NAME;

/// A layer that turns every closed span with a `metric_name` field into one increment of
/// `<metric_name>_total` and one observation of `<metric_name>_duration_seconds`.
///
/// Labels are the span's `metric_label_<k>` fields in declaration order, then
/// `result="ok"|"error"|"cancelled"`. Make one with [`Metrics::layer`](super::Metrics::layer);
/// it works alone on a `Registry`, or stacked outside
/// [`ContextLayer`](crate::context::ContextLayer), whose span records it then reads.
///
/// ```
/// use observe_runtime::metrics::{Metrics, MetricsConfig};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
/// let subscriber = tracing_subscriber::registry().with(metrics.layer());
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("save", metric_name = "db_event", metric_label_table = "events")
///         .entered();
/// });
/// assert!(metrics.render().contains(r#"db_event_total{table="events",result="ok"} 1"#));
/// ```
#[derive(Debug)]
pub struct MetricsLayer {
    store: Store,
    recording: Arc<Recording>,
}

impl MetricsLayer {
    pub(crate) fn new(recording: Arc<Recording>) -> Self {
        MetricsLayer {
            store: Store::default(),
            recording,
        }
    }

    /// For `init`, which puts an unfiltered context layer inside this one: the context
    /// layer keeps every record, so this layer's own store never needs to.
    pub(crate) fn behind_context(mut self) -> Self {
        self.store = self.store.deferring();
        self
    }
}

/// Whether spans of this callsite can name a metric. Every other span skips this layer
/// after one look at its (static) field names: no record, no lock, no clock read.
///
/// The answer is cached by the callsite's metadata address (a direct-mapped table: a
/// collision only costs a re-scan), since the layer asks up to three times per span.
fn has_metric(metadata: &'static Metadata<'static>) -> bool {
    const SLOTS: usize = 256;
    static CACHE: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    let addr = std::ptr::from_ref(metadata).addr();
    // `Metadata` is pointer-aligned: the low two bits carry "cached" and the answer.
    if addr & 3 != 0 {
        return metadata.fields().field(METRIC_NAME).is_some();
    }
    let slot = &CACHE[(addr >> 3 ^ addr >> 11) % SLOTS];
    let cached = slot.load(Ordering::Relaxed);
    if cached & !3 == addr && cached & 1 != 0 {
        return cached & 2 != 0;
    }
    let has = metadata.fields().field(METRIC_NAME).is_some();
    slot.store(addr | 1 | (usize::from(has) << 1), Ordering::Relaxed);
    has
}

impl<S> Layer<S> for MetricsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.store.register(dispatch);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if has_metric(attrs.metadata()) {
            self.store.on_new_span(attrs, id, &ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if ctx.metadata(id).is_some_and(has_metric) {
            self.store.on_record(id, values, &ctx);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.store.on_event(event, &ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let metadata = span.metadata();
        if !has_metric(metadata) {
            return;
        }
        let overflowed =
            close_record(&span, |record| self.recording.observe(metadata, record)).flatten();
        drop(span);
        if let Some(overflowed) = overflowed {
            warn_overflow(&overflowed);
        }
    }
}

/// Logged through tracing, so it lands in the service's log like any other line. Safe to
/// emit here: the span's extensions and every lock of this module are released.
///
/// tracing drops events raised while the thread's dispatcher is busy (a parent span closed
/// by its last child, under a scoped dispatcher) or when there is none; then the warning goes
/// to stderr, since it is given only once.
#[cold]
fn warn_overflow(overflowed: &Overflowed) {
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
