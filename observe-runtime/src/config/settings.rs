//! [`Settings`]: what [`Config`](super::Config) resolved to, the input of `init` and the layers.

use super::{
    BuildInfo, LogFormat, LogsExport, MetricsExport, Origin, ResourceSettings, Sampler, SpanLimits,
    SpanLines, TraceExport,
};

/// Where `/metrics` is served, and where that address came from (for the error when it
/// cannot be bound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsAddr {
    /// `HOST:PORT` as given; the host may be a name, resolved when binding.
    pub addr: String,
    /// `OBSERVE_METRICS_ADDR` or `Config::metrics_addr`.
    pub origin: Origin,
}

/// Where metrics go (`OTEL_METRICS_EXPORTER`): pulled from `/metrics` by Prometheus (the
/// default), pushed over OTLP, or both.
///
/// ```
/// use observe_runtime::config::MetricsExporters;
/// assert_eq!(MetricsExporters::default(), MetricsExporters { prometheus: true, otlp: false });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsExporters {
    /// Serve `/metrics` (at `OBSERVE_METRICS_ADDR`, when set).
    pub prometheus: bool,
    /// Push every `OTEL_METRIC_EXPORT_INTERVAL` to the OTLP endpoint.
    pub otlp: bool,
}

impl Default for MetricsExporters {
    fn default() -> Self {
        MetricsExporters {
            prometheus: true,
            otlp: false,
        }
    }
}

/// The resolved, validated settings that `init` and the layers consume.
///
/// ```
/// use observe_runtime::config::{Config, LogFormat, Sampler, SpanLines};
/// let s = Config::new().resolve_with(|_| None, "songs").unwrap();
/// assert_eq!(s.log_filter, "info");
/// assert_eq!(s.metrics_filter, "trace");
/// assert_eq!(s.traces_filter, "info");
/// assert_eq!(s.log_format, Some(LogFormat::Logfmt));
/// assert_eq!(s.span_lines, SpanLines::OpenClose);
/// assert!(!s.log_lossy);
/// assert_eq!(s.metrics_addr, None);
/// assert_eq!(s.histogram_buckets.len(), 31);
/// assert_eq!(s.cardinality_limit, 1000);
/// assert_eq!(s.resource.service_name, "songs");
/// assert_eq!(s.sampler, Sampler::ParentBasedAlwaysOn);
/// assert!(s.traces.is_none()); // no endpoint: no export
/// assert!(s.serve_metrics && s.metrics_export.is_none() && s.logs_export.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// Log-line filter in `EnvFilter` syntax (validated, normalised).
    pub log_filter: String,
    /// Metrics filter in `EnvFilter` syntax.
    pub metrics_filter: String,
    /// Exported-span filter in `EnvFilter` syntax.
    pub traces_filter: String,
    /// Log format; `None`: no log lines on stdout.
    pub log_format: Option<LogFormat>,
    /// Which span lines are written.
    pub span_lines: SpanLines,
    /// Drop log lines rather than block when the writer falls behind.
    pub log_lossy: bool,
    /// Where to serve `/metrics`; `None` = no listener.
    pub metrics_addr: Option<MetricsAddr>,
    /// Histogram bucket upper bounds: finite, positive, strictly increasing.
    pub histogram_buckets: Vec<f64>,
    /// Maximum label sets per metric before overflow (> 0).
    pub cardinality_limit: usize,
    /// The resource of everything exported (`service.name` never among its attributes).
    pub resource: ResourceSettings,
    /// The sampler that sets each trace's `sampled` flag (used with export off too: the
    /// flag is propagated).
    pub sampler: Sampler,
    /// Span limits (the link limit applies with export off too: links are on log lines).
    pub limits: SpanLimits,
    /// Trace export, `None` when off (no endpoint, `OTEL_SDK_DISABLED=true`,
    /// `OTEL_TRACES_EXPORTER=none` or [`Config::trace_export`](super::Config::trace_export)`(false)`).
    pub traces: Option<TraceExport>,
    /// Serve `/metrics` at `metrics_addr` (`OTEL_METRICS_EXPORTER` includes `prometheus`).
    pub serve_metrics: bool,
    /// The OTLP metrics push, `None` when off (`OTEL_METRICS_EXPORTER` without `otlp`).
    pub metrics_export: Option<MetricsExport>,
    /// The OTLP logs export, `None` when off (`OTEL_LOGS_EXPORTER` unset or `none`).
    pub logs_export: Option<LogsExport>,
    /// The labels of the `build_info` gauge: [`Config::build_info`](super::Config::build_info), else the version in
    /// the resource's `service.version` attribute, else none.
    pub build_info: BuildInfo,
}
