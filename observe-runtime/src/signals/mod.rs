//! [`Signals`]: the one layer that turns spans into log lines, metrics and exported traces.
//!
//! One record per span, made when the span opens and read by each signal the span's
//! filters admit (see [`filter`](crate::filter)): the log signal writes its open and close
//! lines and its events' lines; the metrics signal counts the call and observes its
//! latency when it closes; the trace signal collects its events and, when it closes, moves
//! the record to the export queue. One layer rather than one per signal, so that every
//! callback looks the span up once, and no layer depends on another sitting in the right
//! place in the stack.

mod builder;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

pub use builder::SignalsBuilder;

use crate::context::{RecordSettings, SpanRecord, create_record, fields_changed, link_to};
use crate::filter::{Filters, Signal};
use crate::log::LogOutput;
use crate::metrics::MetricsSink;

/// The layer that makes observe's three signals from `tracing` spans and events.
///
/// Build it with [`Signals::builder`] from the outputs you want (a [`LogOutput`], a
/// [`Metrics`](crate::metrics::Metrics) registry, a trace pipeline's sink), each with its
/// own [`SignalFilter`](crate::filter::SignalFilter); [`init`](crate::init) builds one from
/// the environment and installs it. Put it directly on a
/// [`Registry`](tracing_subscriber::Registry); other layers may sit above it. With
/// [`filter_subscriber`](SignalsBuilder::filter_subscriber) (as `init` builds it) it also
/// decides which spans and events exist at all.
///
/// ```
/// use observe_runtime::Signals;
/// use observe_runtime::filter::SignalFilter;
/// use observe_runtime::log::{LogOutput, writer::MemorySink};
/// use observe_runtime::metrics::Metrics;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let sink = MemorySink::new();
/// let metrics = Metrics::new(Default::default()).unwrap();
/// let signals = Signals::builder()
///     .logs(LogOutput::new(sink.clone()), SignalFilter::new("warn").unwrap())
///     .metrics(&metrics, SignalFilter::all())
///     .build();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(signals), || {
///     let _span = tracing::info_span!("checkout", metric_name = "checkout").entered();
///     tracing::info!("not logged: below warn");
///     tracing::warn!("logged");
/// });
/// assert_eq!(sink.lines().len(), 1, "only the warning: the info span has no lines");
/// assert!(sink.lines()[0].contains("msg=logged"));
/// assert!(metrics.render().contains(r#"checkout_total{result="ok"} 1"#), "but it is counted");
/// ```
#[derive(Debug)]
pub struct Signals {
    filters: Filters,
    logs: Option<LogOutput>,
    metrics: Option<MetricsSink>,
    #[cfg(feature = "otlp")]
    traces: Option<crate::trace::TraceSink>,
    records: RecordSettings,
    /// The layer is the subscriber's filter (see [`SignalsBuilder::filter_subscriber`]).
    filters_subscriber: bool,
}

impl Signals {
    /// A builder with no signal yet.
    pub fn builder() -> SignalsBuilder {
        SignalsBuilder::default()
    }

    /// Whether the trace signal keeps `event` as a span event, by its level (or because it
    /// is an exception), before its span is looked at.
    fn takes_span_event(&self, event: &Event<'_>) -> bool {
        #[cfg(feature = "otlp")]
        if let Some(traces) = &self.traces {
            return traces.takes_event_level(event.metadata().level())
                || crate::trace::is_exception(event);
        }
        let _ = event;
        false
    }

    /// Keeps an event of a sampled, exported span as one of its span events.
    fn on_span_event<R: for<'a> LookupSpan<'a>>(
        &self,
        event: &Event<'_>,
        span: Option<&SpanRef<'_, R>>,
    ) {
        #[cfg(feature = "otlp")]
        if let (Some(traces), Some(span)) = (&self.traces, span) {
            let mut extensions = span.extensions_mut();
            if let Some(record) = extensions.get_mut::<SpanRecord>()
                && record.owner == self.records.owner
                && record.signals.contains(Signal::Traces)
                && record.sampled
            {
                record.trace.push(event, traces.limits().events);
            }
        }
        #[cfg(not(feature = "otlp"))]
        let _ = (event, span);
    }
}

impl<S> Layer<S> for Signals
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        #[cfg(feature = "otlp")]
        if let Some(traces) = &self.traces {
            traces.log_to(dispatch.downgrade());
        }
        #[cfg(not(feature = "otlp"))]
        let _ = dispatch;
    }

    /// Added to a subscriber: the metrics of every observed function its metrics filter
    /// takes are made at 0, so that they are scraped before the first call.
    fn on_layer(&mut self, _subscriber: &mut S) {
        if let Some(metrics) = &self.metrics {
            for entry in crate::observed::observed_functions() {
                if self.filters.may_count::<S>(entry.metadata()) {
                    metrics.register(entry);
                }
            }
        }
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.filters_subscriber {
            self.filters.interest::<S>(metadata)
        } else {
            Interest::always()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        // `tracing` asks only for callsites whose interest is "sometimes"; their metadata
        // is `'static` in every `tracing` release, but the trait does not say so, so ask
        // the filters directly rather than through the decision table.
        !self.filters_subscriber || self.filters.enabled_dynamic(metadata, &ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        if self.filters_subscriber {
            self.filters.max_level()
        } else {
            None
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.filters.is_dynamic() {
            self.filters.on_new_span(attrs, id, &ctx);
        }
        let signals = self.filters.signals(attrs.metadata(), &ctx);
        if signals.is_empty() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        if span.extensions().get::<SpanRecord>().is_some() {
            // Another `Signals` layer in the same subscriber made it; one record per span.
            return;
        }
        let mut record = create_record(attrs, &span, &ctx, signals, self.records);
        if let Some(logs) = &self.logs
            && signals.contains(Signal::Logs)
        {
            logs.open_line(&span, &mut record);
        }
        let overflowed = match &self.metrics {
            Some(metrics) if signals.tracks_in_flight() => metrics.start_call(&mut record),
            _ => None,
        };
        span.extensions_mut().insert(record);
        drop(span);
        if let Some(overflowed) = overflowed {
            crate::metrics::warn_overflow(&overflowed);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.filters.is_dynamic() {
            self.filters.on_record(id, values, &ctx);
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>()
            && record.owner == self.records.owner
            && record.record_later(values)
        {
            fields_changed();
        }
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        let Some(link) = link_to(&ctx, follows) else {
            return;
        };
        let Some(span) = ctx.span(span) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>()
            && record.owner == self.records.owner
        {
            record.add_link(link, self.records.link_limit);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let signals = self.filters.signals(event.metadata(), &ctx);
        let logs = self
            .logs
            .as_ref()
            .filter(|_| signals.contains(Signal::Logs));
        let span_event = signals.contains(Signal::Traces) && self.takes_span_event(event);
        if logs.is_none() && !span_event {
            return;
        }
        // One lookup of the event's span for both signals.
        let span = ctx.event_span(event);
        if let Some(logs) = logs {
            logs.event_line(event, span.as_ref());
        }
        if span_event {
            self.on_span_event(event, span.as_ref());
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.filters.is_dynamic() {
            self.filters.on_enter(id, &ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.filters.is_dynamic() {
            self.filters.on_exit(id, &ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.filters.is_dynamic() {
            self.filters.on_close(&id, &ctx);
        }
        let Some(span) = ctx.span(&id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(record) = extensions
            .get_mut::<SpanRecord>()
            .filter(|record| record.owner == self.records.owner)
        else {
            return;
        };
        record.close();
        // Ancestors' records are read (for inherited fields) while this span's is locked:
        // ancestors are only ever locked while a descendant is, never the other way round.
        if let Some(logs) = &self.logs
            && record.signals.contains(Signal::Logs)
        {
            logs.close_line(&span, record);
        }
        let overflowed = match &self.metrics {
            Some(metrics) if record.signals.contains(Signal::Metrics) => metrics.observe(record),
            _ => None,
        };
        // The call is over, however it ended: it leaves the in-flight gauge.
        record.in_flight = None;
        #[cfg(feature = "otlp")]
        if let Some(traces) = &self.traces
            && record.signals.contains(Signal::Traces)
            && record.sampled
            && let Some(record) = extensions.remove::<SpanRecord>()
        {
            traces.push(record);
        }
        drop(extensions);
        drop(span);
        if let Some(overflowed) = overflowed {
            crate::metrics::warn_overflow(&overflowed);
        }
    }
}
