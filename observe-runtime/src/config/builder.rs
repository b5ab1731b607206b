//! [`Config`]: the settings made in code, each beating its environment variable.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;

use super::{
    BuildInfo, ConfigError, LogFormat, MetricsExporters, Protocol, Sampler, Secret, Settings,
    SpanLines, Temporality, env, resolve,
};

/// Settings from code. Each method sets one value that then beats the environment; see the
/// [module docs](crate::config) for the variables and defaults.
///
/// `Debug` never shows header values or URL credentials.
///
/// ```
/// use observe_runtime::config::Config;
/// let config = Config::new().otlp_header("authorization", "Bearer s3cr3t");
/// assert!(!format!("{config:?}").contains("s3cr3t"));
/// ```
#[derive(Clone, Default)]
pub struct Config {
    pub(crate) log_filter: Option<String>,
    pub(crate) metrics_filter: Option<String>,
    pub(crate) traces_filter: Option<String>,
    pub(crate) log_format: Option<Option<LogFormat>>,
    pub(crate) span_lines: Option<SpanLines>,
    pub(crate) log_lossy: Option<bool>,
    pub(crate) metrics_addr: Option<String>,
    pub(crate) histogram_buckets: Option<Vec<f64>>,
    pub(crate) cardinality_limit: Option<usize>,
    pub(crate) service_name: Option<String>,
    pub(crate) resource_attributes: Option<Vec<(String, String)>>,
    pub(crate) otlp_endpoint: Option<String>,
    pub(crate) otlp_traces_endpoint: Option<String>,
    pub(crate) otlp_metrics_endpoint: Option<String>,
    pub(crate) otlp_logs_endpoint: Option<String>,
    pub(crate) otlp_certificate: Option<std::path::PathBuf>,
    pub(crate) otlp_client_identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
    pub(crate) metrics_exporters: Option<MetricsExporters>,
    pub(crate) metric_export_interval: Option<Duration>,
    pub(crate) metrics_temporality: Option<Temporality>,
    pub(crate) logs_export: Option<bool>,
    pub(crate) otlp_protocol: Option<Protocol>,
    pub(crate) otlp_headers: Option<Vec<(String, Secret<String>)>>,
    pub(crate) otlp_timeout: Option<Duration>,
    pub(crate) sampler: Option<Sampler>,
    pub(crate) span_event_level: Option<LevelFilter>,
    pub(crate) trace_export: Option<bool>,
    pub(crate) log_writer: Option<LogWriterSlot>,
    pub(crate) build_info: Option<BuildInfo>,
}

/// A log writer set in code, handed over once to `init`; `Config` stays `Clone`.
#[derive(Clone)]
pub(crate) struct LogWriterSlot(Arc<Mutex<Option<Box<dyn Write + Send>>>>);

impl LogWriterSlot {
    pub(crate) fn take(&self) -> Option<Box<dyn Write + Send>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |u: &Option<String>| u.as_deref().map(env::redact_userinfo);
        f.debug_struct("Config")
            .field("log_filter", &self.log_filter)
            .field("metrics_filter", &self.metrics_filter)
            .field("traces_filter", &self.traces_filter)
            .field("log_format", &self.log_format)
            .field("span_lines", &self.span_lines)
            .field("log_lossy", &self.log_lossy)
            .field("metrics_addr", &self.metrics_addr)
            .field("histogram_buckets", &self.histogram_buckets)
            .field("cardinality_limit", &self.cardinality_limit)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .field("otlp_endpoint", &redact(&self.otlp_endpoint))
            .field("otlp_traces_endpoint", &redact(&self.otlp_traces_endpoint))
            .field(
                "otlp_metrics_endpoint",
                &redact(&self.otlp_metrics_endpoint),
            )
            .field("otlp_logs_endpoint", &redact(&self.otlp_logs_endpoint))
            .field("otlp_certificate", &self.otlp_certificate)
            .field("otlp_client_identity", &self.otlp_client_identity)
            .field("metrics_exporters", &self.metrics_exporters)
            .field("metric_export_interval", &self.metric_export_interval)
            .field("metrics_temporality", &self.metrics_temporality)
            .field("logs_export", &self.logs_export)
            .field("otlp_protocol", &self.otlp_protocol)
            .field("otlp_headers", &self.otlp_headers)
            .field("otlp_timeout", &self.otlp_timeout)
            .field("sampler", &self.sampler)
            .field("span_event_level", &self.span_event_level)
            .field("trace_export", &self.trace_export)
            .field("build_info", &self.build_info)
            .field(
                "log_writer",
                &self.log_writer.as_ref().map_or("stdout", |_| "custom"),
            )
            .finish()
    }
}

impl Config {
    /// An empty config: everything from the environment or defaults.
    ///
    /// ```
    /// let settings = observe_runtime::config::Config::new().resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(settings.resource.service_name, "app");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The log-line filter in `EnvFilter` syntax (beats `RUST_LOG`). It decides which log
    /// lines are written, and nothing else: metrics and traces have their own filters.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().log_filter("debug,h2=off")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.log_filter, "debug,h2=off");
    /// ```
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.log_filter = Some(filter.into());
        self
    }

    /// The metrics filter (beats `OBSERVE_METRICS_FILTER`; default `trace`, every call).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().metrics_filter("info")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_filter, "info");
    /// ```
    pub fn metrics_filter(mut self, filter: impl Into<String>) -> Self {
        self.metrics_filter = Some(filter.into());
        self
    }

    /// The filter of exported spans (beats `OBSERVE_TRACES_FILTER`; default `info`).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().traces_filter("warn,songs=debug")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.traces_filter, "warn,songs=debug");
    /// ```
    pub fn traces_filter(mut self, filter: impl Into<String>) -> Self {
        self.traces_filter = Some(filter.into());
        self
    }

    /// Log format (beats `OBSERVE_LOG_FORMAT`).
    ///
    /// ```
    /// use observe_runtime::config::{Config, LogFormat};
    /// let s = Config::new().log_format(LogFormat::Json).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.log_format, Some(LogFormat::Json));
    /// ```
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(Some(format));
        self
    }

    /// No log lines on stdout (beats `OBSERVE_LOG_FORMAT`; like `OBSERVE_LOG_FORMAT=off`).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().log_off().resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.log_format, None);
    /// ```
    pub fn log_off(mut self) -> Self {
        self.log_format = Some(None);
        self
    }

    /// Which span lines are written (beats `OBSERVE_SPAN_LINES`).
    ///
    /// ```
    /// use observe_runtime::config::{Config, SpanLines};
    /// let s = Config::new().span_lines(SpanLines::Close).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.span_lines, SpanLines::Close);
    /// ```
    pub fn span_lines(mut self, lines: SpanLines) -> Self {
        self.span_lines = Some(lines);
        self
    }

    /// Writes log lines to `writer` instead of stdout (through the same non-blocking
    /// writer). There is no environment variable for it.
    ///
    /// ```
    /// use observe_runtime::config::Config;
    ///
    /// let config = Config::new().log_writer(std::io::stderr());
    /// assert!(format!("{config:?}").contains("log_writer: \"custom\""));
    /// ```
    pub fn log_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.log_writer = Some(LogWriterSlot(Arc::new(Mutex::new(Some(Box::new(writer))))));
        self
    }

    /// `true`: drop log lines when the writer falls behind, instead of blocking
    /// (beats `OBSERVE_LOG_LOSSY`).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().log_lossy(true)
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert!(s.log_lossy);
    /// ```
    pub fn log_lossy(mut self, lossy: bool) -> Self {
        self.log_lossy = Some(lossy);
        self
    }

    /// Serve `/metrics` on `addr`, `HOST:PORT` with an IP address or a host name (beats
    /// `OBSERVE_METRICS_ADDR`).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().metrics_addr("localhost:9464")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_addr.unwrap().addr, "localhost:9464");
    /// let addr: std::net::SocketAddr = "127.0.0.1:9464".parse().unwrap();
    /// let s = observe_runtime::config::Config::new().metrics_addr(addr)
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_addr.unwrap().addr, "127.0.0.1:9464");
    /// ```
    pub fn metrics_addr(mut self, addr: impl fmt::Display) -> Self {
        self.metrics_addr = Some(addr.to_string());
        self
    }

    /// Histogram bucket upper bounds in seconds: finite, positive, strictly increasing.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().histogram_buckets([0.1, 1.0, 10.0])
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.histogram_buckets, [0.1, 1.0, 10.0]);
    /// ```
    pub fn histogram_buckets(mut self, buckets: impl IntoIterator<Item = f64>) -> Self {
        self.histogram_buckets = Some(buckets.into_iter().collect());
        self
    }

    /// Maximum label sets per metric (> 0).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().cardinality_limit(50)
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.cardinality_limit, 50);
    /// ```
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = Some(limit);
        self
    }

    /// Resource `service.name` (beats `OTEL_SERVICE_NAME`).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().service_name("songs")
    ///     .resolve_with(|_| None, "songs-bin").unwrap();
    /// assert_eq!(s.resource.service_name, "songs");
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The running build's version and commit: the labels of the `build_info` gauge, and
    /// the resource's `service.version` unless `OTEL_RESOURCE_ATTRIBUTES` (or
    /// [`resource_attribute`](Self::resource_attribute)) sets one. `observe::build_info!()`
    /// reads both from the calling crate at compile time.
    ///
    /// ```
    /// use observe_runtime::config::{BuildInfo, Config};
    ///
    /// let s = Config::new()
    ///     .build_info(BuildInfo::new("1.4.2", Some("9f05e9c")))
    ///     .resolve_with(|_| None, "songs")
    ///     .unwrap();
    /// assert_eq!(s.build_info.version(), "1.4.2");
    /// assert!(s.resource.attributes.contains(&("service.version".into(), "1.4.2".into())));
    /// ```
    pub fn build_info(mut self, info: BuildInfo) -> Self {
        self.build_info = Some(info);
        self
    }

    /// Adds a resource attribute. Any call replaces `OTEL_RESOURCE_ATTRIBUTES` as a whole.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new()
    ///     .resource_attribute("deployment.environment.name", "prod")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.resource.attributes, [("deployment.environment.name".into(), "prod".into())]);
    /// ```
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource_attributes
            .get_or_insert_with(Vec::new)
            .push((key.into(), value.into()));
        self
    }

    /// Collector base URL, like `OTEL_EXPORTER_OTLP_ENDPOINT` (for `http/protobuf`,
    /// `/v1/traces` is appended). Beats both endpoint variables.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().otlp_endpoint("http://127.0.0.1:4318/")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.traces.unwrap().target.endpoint, "http://127.0.0.1:4318/v1/traces");
    /// ```
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(url.into());
        self
    }

    /// Collector traces URL used as is, like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    /// Beats [`otlp_endpoint`](Self::otlp_endpoint) and both endpoint variables.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new()
    ///     .otlp_traces_endpoint("http://127.0.0.1:4318/custom")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.traces.unwrap().target.endpoint, "http://127.0.0.1:4318/custom");
    /// ```
    pub fn otlp_traces_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_traces_endpoint = Some(url.into());
        self
    }

    /// OTLP transport (beats the protocol variables).
    ///
    /// ```
    /// use observe_runtime::config::{Config, Protocol};
    /// let s = Config::new().otlp_protocol(Protocol::Grpc).otlp_endpoint("http://127.0.0.1:4317")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// let t = s.traces.unwrap().target;
    /// assert_eq!((t.protocol, t.endpoint.as_str()), (Protocol::Grpc, "http://127.0.0.1:4317"));
    /// ```
    pub fn otlp_protocol(mut self, protocol: Protocol) -> Self {
        self.otlp_protocol = Some(protocol);
        self
    }

    /// Adds an export header (gRPC metadata), e.g. an API token. Any call replaces the header
    /// variables as a whole. The value is a secret: never logged.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new()
    ///     .otlp_endpoint("http://127.0.0.1:4318")
    ///     .otlp_header("authorization", "Bearer t0ken")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// let t = s.traces.unwrap().target;
    /// assert_eq!(t.headers.iter().collect::<Vec<_>>(), [("authorization", "Bearer t0ken")]);
    /// ```
    pub fn otlp_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.otlp_headers
            .get_or_insert_with(Vec::new)
            .push((name.into(), Secret::new(value.into())));
        self
    }

    /// Export request timeout (beats the timeout variables).
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = observe_runtime::config::Config::new().otlp_endpoint("http://127.0.0.1:4318")
    ///     .otlp_timeout(Duration::from_secs(2)).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.traces.unwrap().target.timeout, Duration::from_secs(2));
    /// ```
    pub fn otlp_timeout(mut self, timeout: Duration) -> Self {
        self.otlp_timeout = Some(timeout);
        self
    }

    /// Sampler (beats `OTEL_TRACES_SAMPLER`/`_ARG`); ratios must be within 0..=1.
    ///
    /// ```
    /// use observe_runtime::config::{Config, Sampler};
    /// let s = Config::new().sampler(Sampler::TraceIdRatio(0.5)).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.sampler, Sampler::TraceIdRatio(0.5));
    /// ```
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Events at this level or more severe inside an exported span become its span events
    /// (beats `OBSERVE_SPAN_EVENTS`; default `WARN`). The `err` event and a panic always do.
    ///
    /// ```
    /// use observe_runtime::config::Config;
    /// use tracing_subscriber::filter::LevelFilter;
    /// let s = Config::new().otlp_endpoint("http://127.0.0.1:4318")
    ///     .span_event_level(LevelFilter::INFO).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.traces.unwrap().span_event_level, LevelFilter::INFO);
    /// ```
    pub fn span_event_level(mut self, level: LevelFilter) -> Self {
        self.span_event_level = Some(level);
        self
    }

    /// Turns trace export on or off regardless of `OTEL_SDK_DISABLED` and
    /// `OTEL_TRACES_EXPORTER` (export still needs an endpoint).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new().otlp_endpoint("http://127.0.0.1:4318")
    ///     .trace_export(false).resolve_with(|_| None, "app").unwrap();
    /// assert!(s.traces.is_none());
    /// ```
    pub fn trace_export(mut self, enabled: bool) -> Self {
        self.trace_export = Some(enabled);
        self
    }

    /// Collector metrics URL used as is, like `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`.
    ///
    /// ```
    /// use observe_runtime::config::{Config, MetricsExporters};
    /// let s = Config::new()
    ///     .metrics_exporters(MetricsExporters { prometheus: false, otlp: true })
    ///     .otlp_metrics_endpoint("http://127.0.0.1:4318/custom")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_export.unwrap().target.endpoint, "http://127.0.0.1:4318/custom");
    /// ```
    pub fn otlp_metrics_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_metrics_endpoint = Some(url.into());
        self
    }

    /// Collector logs URL used as is, like `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new()
    ///     .logs_export(true)
    ///     .otlp_logs_endpoint("http://127.0.0.1:4318/custom")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.logs_export.unwrap().target.endpoint, "http://127.0.0.1:4318/custom");
    /// ```
    pub fn otlp_logs_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_logs_endpoint = Some(url.into());
        self
    }

    /// A CA certificate (PEM file) to trust for `https://` endpoints besides the system
    /// roots (beats `OTEL_EXPORTER_OTLP_CERTIFICATE` and its per-signal variants). The file
    /// is read when the settings are resolved.
    ///
    /// ```
    /// let err = observe_runtime::config::Config::new()
    ///     .otlp_endpoint("https://collector.example:4318")
    ///     .otlp_certificate("/no/such/ca.pem")
    ///     .resolve_with(|_| None, "app").unwrap_err();
    /// assert_eq!(err.variable(), "Config::otlp_certificate");
    /// ```
    pub fn otlp_certificate(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.otlp_certificate = Some(path.into());
        self
    }

    /// A client certificate chain and its private key (PEM files), for collectors that
    /// require mutual TLS (beats `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
    /// `_CLIENT_KEY`).
    ///
    /// ```
    /// let config = observe_runtime::config::Config::new()
    ///     .otlp_client_identity("client.pem", "client.key");
    /// # drop(config);
    /// ```
    pub fn otlp_client_identity(
        mut self,
        certificate: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.otlp_client_identity = Some((certificate.into(), key.into()));
        self
    }

    /// Where metrics go (beats `OTEL_METRICS_EXPORTER`).
    ///
    /// ```
    /// use observe_runtime::config::{Config, MetricsExporters};
    /// let s = Config::new()
    ///     .metrics_exporters(MetricsExporters { prometheus: true, otlp: true })
    ///     .otlp_endpoint("http://127.0.0.1:4318")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert!(s.serve_metrics && s.metrics_export.is_some());
    /// ```
    pub fn metrics_exporters(mut self, exporters: MetricsExporters) -> Self {
        self.metrics_exporters = Some(exporters);
        self
    }

    /// Time between OTLP metric pushes (beats `OTEL_METRIC_EXPORT_INTERVAL`).
    ///
    /// ```
    /// use observe_runtime::config::{Config, MetricsExporters};
    /// use std::time::Duration;
    /// let s = Config::new()
    ///     .metrics_exporters(MetricsExporters { prometheus: false, otlp: true })
    ///     .otlp_endpoint("http://127.0.0.1:4318")
    ///     .metric_export_interval(Duration::from_secs(10))
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_export.unwrap().interval, Duration::from_secs(10));
    /// ```
    pub fn metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_export_interval = Some(interval);
        self
    }

    /// Cumulative or delta sums and histograms in the OTLP push (beats
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
    ///
    /// ```
    /// use observe_runtime::config::{Config, MetricsExporters, Temporality};
    /// let s = Config::new()
    ///     .metrics_exporters(MetricsExporters { prometheus: false, otlp: true })
    ///     .otlp_endpoint("http://127.0.0.1:4318")
    ///     .metrics_temporality(Temporality::Delta)
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_export.unwrap().temporality, Temporality::Delta);
    /// ```
    pub fn metrics_temporality(mut self, temporality: Temporality) -> Self {
        self.metrics_temporality = Some(temporality);
        self
    }

    /// Sends every log line (those the log filter admits) as an OTLP log record too (beats
    /// `OTEL_LOGS_EXPORTER`; needs an endpoint).
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new()
    ///     .otlp_endpoint("http://127.0.0.1:4318")
    ///     .logs_export(true)
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.logs_export.unwrap().target.endpoint, "http://127.0.0.1:4318/v1/logs");
    /// ```
    pub fn logs_export(mut self, enabled: bool) -> Self {
        self.logs_export = Some(enabled);
        self
    }

    /// Resolves against the process environment (`std::env::var`); see
    /// [`resolve_with`](Self::resolve_with). A variable that is not valid Unicode is read
    /// lossily (and then usually fails validation).
    ///
    /// ```
    /// let settings = observe_runtime::config::Config::new().resolve(env!("CARGO_PKG_NAME"));
    /// # let _ = settings;
    /// ```
    pub fn resolve(self, default_service_name: &str) -> Result<Settings, ConfigError> {
        self.resolve_with(
            |name| match std::env::var(name) {
                Ok(v) => Some(v),
                Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(v)) => Some(v.to_string_lossy().into_owned()),
            },
            default_service_name,
        )
    }

    /// Resolves code settings, then `env` (a lookup such as `std::env::var(..).ok()`), then
    /// defaults, validating everything. `default_service_name` is used when neither code nor
    /// `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` names the service.
    ///
    /// ```
    /// use observe_runtime::config::Config;
    /// let env = |name: &str| (name == "OTEL_TRACES_SAMPLER").then(|| "sometimes".to_string());
    /// let err = Config::new().resolve_with(env, "app").unwrap_err();
    /// assert_eq!(err.variable(), "OTEL_TRACES_SAMPLER");
    /// assert!(err.to_string().starts_with(r#"OTEL_TRACES_SAMPLER="sometimes": unknown sampler"#));
    /// ```
    pub fn resolve_with(
        self,
        env: impl Fn(&str) -> Option<String>,
        default_service_name: &str,
    ) -> Result<Settings, ConfigError> {
        resolve::settings(self, &env, default_service_name)
    }
}
