//! [`SignalsBuilder`]: the outputs and filters a [`Signals`] layer is made of.

use super::Signals;
use crate::context::{RecordSettings, Sampler};
use crate::filter::{Filters, SignalFilter};
use crate::log::LogOutput;
use crate::metrics::{Metrics, MetricsSink};

/// Collects the signals of a [`Signals`] layer; see [`Signals::builder`].
///
/// A signal that is not given is not produced. Each comes with its own filter, in
/// `EnvFilter` syntax; `init` uses `RUST_LOG`, `OBSERVE_METRICS_FILTER` and
/// `OBSERVE_TRACES_FILTER`.
///
/// ```
/// use observe_runtime::Signals;
/// use observe_runtime::context::Sampler;
/// use observe_runtime::filter::SignalFilter;
/// use observe_runtime::metrics::Metrics;
///
/// let metrics = Metrics::new(Default::default()).unwrap();
/// let layer: Signals = Signals::builder()
///     .metrics(&metrics, SignalFilter::new("info").unwrap())
///     .sampler(Sampler::TraceIdRatio(0.1))
///     .build();
/// # drop(layer);
/// ```
#[derive(Debug, Default)]
pub struct SignalsBuilder {
    logs: Option<(LogOutput, SignalFilter)>,
    metrics: Option<(MetricsSink, SignalFilter)>,
    #[cfg(feature = "otlp")]
    traces: Option<(crate::trace::TraceSink, SignalFilter)>,
    records: RecordSettings,
    filters_subscriber: bool,
}

impl SignalsBuilder {
    /// Writes log lines to `output`, for the spans and events `filter` admits.
    pub fn logs(mut self, output: LogOutput, filter: SignalFilter) -> Self {
        self.logs = Some((output, filter));
        self
    }

    /// Counts the calls of the spans `filter` admits that name a metric (`metric_name`)
    /// into `metrics`.
    pub fn metrics(mut self, metrics: &Metrics, filter: SignalFilter) -> Self {
        self.metrics = Some((metrics.sink(), filter));
        self
    }

    /// Exports the spans `filter` admits (and the sampler samples) through `sink`, from
    /// [`TracePipeline::sink`](crate::trace::TracePipeline::sink).
    #[cfg(feature = "otlp")]
    pub fn traces(mut self, sink: crate::trace::TraceSink, filter: SignalFilter) -> Self {
        self.traces = Some((sink, filter));
        self
    }

    /// The sampler that sets each new trace's `sampled` flag (default: parent-based,
    /// always on). Unsampled spans are logged and measured, not exported.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.records.sampler = sampler;
        self
    }

    /// Most links a span keeps (`OTEL_SPAN_LINK_COUNT_LIMIT`, default 128).
    pub fn link_limit(mut self, limit: usize) -> Self {
        self.records.link_limit = limit;
        self
    }

    /// Makes the layer the subscriber's filter, as an `EnvFilter` layer is: spans and
    /// events that no signal takes are disabled for every layer of the subscriber, so they
    /// cost what a disabled `tracing` span costs (one comparison, or the callsite's cached
    /// interest). `init` builds its layer so. Without it, the layer filters nothing for the
    /// layers stacked with it, and only chooses what it records itself.
    ///
    /// ```
    /// use observe_runtime::Signals;
    /// use observe_runtime::filter::SignalFilter;
    /// use observe_runtime::metrics::Metrics;
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let metrics = Metrics::new(Default::default()).unwrap();
    /// let signals = Signals::builder()
    ///     .metrics(&metrics, SignalFilter::new("info").unwrap())
    ///     .filter_subscriber()
    ///     .build();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(signals), || {
    ///     assert!(!tracing::enabled!(tracing::Level::INFO), "no signal takes events");
    ///     assert!(tracing::span!(tracing::Level::DEBUG, "x", metric_name = "x").is_disabled());
    /// });
    /// ```
    pub fn filter_subscriber(mut self) -> Self {
        self.filters_subscriber = true;
        self
    }

    /// The layer.
    pub fn build(self) -> Signals {
        let (logs, log_filter) = unzip(self.logs);
        let (metrics, metrics_filter) = unzip(self.metrics);
        #[cfg(feature = "otlp")]
        let (traces, traces_filter) = unzip(self.traces);
        #[cfg(not(feature = "otlp"))]
        let traces_filter = None;
        let mut records = self.records;
        records.exports_traces = traces_filter.is_some();
        Signals {
            filters: Filters::new(log_filter, metrics_filter, traces_filter),
            logs,
            metrics,
            #[cfg(feature = "otlp")]
            traces,
            records,
            filters_subscriber: self.filters_subscriber,
        }
    }
}

fn unzip<T>(pair: Option<(T, SignalFilter)>) -> (Option<T>, Option<SignalFilter>) {
    match pair {
        Some((output, filter)) => (Some(output), Some(filter)),
        None => (None, None),
    }
}
