//! Configuration: a [`Config`] builder whose settings beat the environment, resolved into
//! validated [`Settings`].
//!
//! Every setting is optional in [`Config`]; [`Config::resolve`] fills each unset one from the
//! environment, then from the default. A bad value, from code or environment, is a
//! [`ConfigError`] that names the variable (or builder method) and the problem.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `RUST_LOG` | `info` | log filter (`EnvFilter` syntax) |
//! | `OBSERVE_LOG_FORMAT` | `logfmt` | `logfmt`, `json` or `off` |
//! | `OBSERVE_LOG_LOSSY` | `false` | `true`: drop log lines when the writer falls behind instead of blocking the application (observe's own variable) |
//! | `OBSERVE_METRICS_ADDR` | unset | serve `/metrics` on this `IP:PORT` |
//! | `OTEL_SERVICE_NAME` | `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else the caller's default (the binary's crate name) | resource `service.name` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | none | `k=v,k2=v2`, percent-decoded |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | | collector URL, used as is |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset = no export | collector base URL; `/v1/traces` is appended for `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` | `grpc` or `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `OTEL_EXPORTER_OTLP_HEADERS` | none | `k=v,…`, percent-decoded; secret: never logged or echoed |
//! | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` | `10000` | export timeout in ms |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `parentbased_always_on` | sampler and its ratio |
//! | `OTEL_SDK_DISABLED` | `false` | `true` turns trace export off |
//! | `OTEL_TRACES_EXPORTER` | `otlp` | `otlp` or `none` (export off) |
//!
//! Where a signal-specific (`_TRACES_`) variable and the generic one are both set, the
//! signal-specific one wins. An empty variable counts as unset. Booleans are `true` or
//! `false`, case-insensitive.
//!
//! ```
//! use observe_runtime::config::{Config, LogFormat, Protocol};
//!
//! let env = |name: &str| match name {
//!     "OBSERVE_LOG_FORMAT" => Some("json".to_string()),
//!     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318".to_string()),
//!     _ => None,
//! };
//! let settings = Config::new()
//!     .log_format(LogFormat::Logfmt) // code beats env
//!     .resolve_with(env, "songs")?;
//! assert_eq!(settings.log_format, LogFormat::Logfmt);
//! assert_eq!(settings.service_name, "songs");
//! let traces = settings.traces.expect("an endpoint turns export on");
//! assert_eq!(traces.protocol, Protocol::HttpProtobuf);
//! assert_eq!(traces.endpoint, "http://collector:4318/v1/traces");
//! # Ok::<(), observe_runtime::config::ConfigError>(())
//! ```

mod env;
mod error;
mod secret;

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use error::{ConfigError, Origin};
pub use secret::{Headers, Secret};

pub use crate::metrics::DEFAULT_BUCKETS;
/// The default cap on label sets per metric.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 1000;
/// The default OTLP export timeout (the OTel spec's 10 s).
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);
/// The default log filter.
pub const DEFAULT_LOG_FILTER: &str = "info";

pub use crate::log::LogFormat;

/// OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// OTLP/gRPC (tonic).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (the OTel spec default).
    #[default]
    HttpProtobuf,
}

/// Trace sampler, as in `OTEL_TRACES_SAMPLER`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Sampler {
    /// Sample every trace.
    AlwaysOn,
    /// Sample none.
    AlwaysOff,
    /// Sample this ratio (0..=1) of trace ids.
    TraceIdRatio(f64),
    /// Follow the parent's decision; sample every root (the default).
    #[default]
    ParentBasedAlwaysOn,
    /// Follow the parent's decision; sample no root.
    ParentBasedAlwaysOff,
    /// Follow the parent's decision; sample this ratio of roots.
    ParentBasedTraceIdRatio(f64),
}

/// Settings from code. Each method sets one value that then beats the environment; see the
/// [module docs](self) for the variables and defaults.
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
    log_filter: Option<String>,
    log_format: Option<LogFormat>,
    log_lossy: Option<bool>,
    metrics_addr: Option<SocketAddr>,
    histogram_buckets: Option<Vec<f64>>,
    cardinality_limit: Option<usize>,
    service_name: Option<String>,
    resource_attributes: Option<Vec<(String, String)>>,
    otlp_endpoint: Option<String>,
    otlp_traces_endpoint: Option<String>,
    otlp_protocol: Option<Protocol>,
    otlp_headers: Option<Vec<(String, Secret<String>)>>,
    otlp_timeout: Option<Duration>,
    sampler: Option<Sampler>,
    trace_export: Option<bool>,
    pub(crate) log_writer: Option<LogWriterSlot>,
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
            .field("log_format", &self.log_format)
            .field("log_lossy", &self.log_lossy)
            .field("metrics_addr", &self.metrics_addr)
            .field("histogram_buckets", &self.histogram_buckets)
            .field("cardinality_limit", &self.cardinality_limit)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .field("otlp_endpoint", &redact(&self.otlp_endpoint))
            .field("otlp_traces_endpoint", &redact(&self.otlp_traces_endpoint))
            .field("otlp_protocol", &self.otlp_protocol)
            .field("otlp_headers", &self.otlp_headers)
            .field("otlp_timeout", &self.otlp_timeout)
            .field("sampler", &self.sampler)
            .field("trace_export", &self.trace_export)
            .field(
                "log_writer",
                &self.log_writer.as_ref().map_or("stdout", |_| "custom"),
            )
            .finish()
    }
}

/// The resolved, validated settings that `init` and the layers consume.
///
/// ```
/// use observe_runtime::config::{Config, LogFormat, Sampler};
/// let s = Config::new().resolve_with(|_| None, "songs").unwrap();
/// assert_eq!(s.log_filter, "info");
/// assert_eq!(s.log_format, LogFormat::Logfmt);
/// assert!(!s.log_lossy);
/// assert_eq!(s.metrics_addr, None);
/// assert_eq!(s.histogram_buckets.len(), 16);
/// assert_eq!(s.cardinality_limit, 1000);
/// assert_eq!(s.service_name, "songs");
/// assert_eq!(s.sampler, Sampler::ParentBasedAlwaysOn);
/// assert!(s.traces.is_none()); // no endpoint: no export
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// Log filter in `EnvFilter` syntax (validated).
    pub log_filter: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Drop log lines rather than block when the writer falls behind.
    pub log_lossy: bool,
    /// Where to serve `/metrics`; `None` = no listener.
    pub metrics_addr: Option<SocketAddr>,
    /// Histogram bucket upper bounds: finite, positive, strictly increasing.
    pub histogram_buckets: Vec<f64>,
    /// Maximum label sets per metric before overflow (> 0).
    pub cardinality_limit: usize,
    /// Resource `service.name`.
    pub service_name: String,
    /// Other resource attributes, in order (never contains `service.name`).
    pub resource_attributes: Vec<(String, String)>,
    /// The sampler (also inside [`TraceExport`]).
    pub sampler: Sampler,
    /// Trace export, `None` when off (no endpoint, `OTEL_SDK_DISABLED=true`,
    /// `OTEL_TRACES_EXPORTER=none` or [`Config::trace_export`]`(false)`).
    pub traces: Option<TraceExport>,
}

/// The resolved trace-export settings, what
/// [`OtelPipeline::start`](crate::otel::OtelPipeline::start) takes.
///
/// `Debug` shows header names but never their values, nor URL credentials.
///
/// ```
/// use observe_runtime::config::Config;
/// let s = Config::new()
///     .otlp_endpoint("https://user:pw@collector.example")
///     .otlp_header("x-api-key", "s3cr3t")
///     .resolve_with(|_| None, "svc")
///     .unwrap();
/// let debug = format!("{s:?}");
/// assert!(!debug.contains("s3cr3t") && !debug.contains("pw"));
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct TraceExport {
    /// The exact URL the exporter sends to (for `http/protobuf` from the generic endpoint,
    /// with `/v1/traces` appended).
    pub endpoint: String,
    /// Transport.
    pub protocol: Protocol,
    /// Headers (gRPC metadata) sent with every export.
    pub headers: Headers,
    /// Export timeout.
    pub timeout: Duration,
    /// Sampler.
    pub sampler: Sampler,
    /// Resource `service.name`.
    pub service_name: String,
    /// Other resource attributes.
    pub resource_attributes: Vec<(String, String)>,
}

impl fmt::Debug for TraceExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceExport")
            .field("endpoint", &env::redact_userinfo(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("sampler", &self.sampler)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .finish()
    }
}

impl Config {
    /// An empty config: everything from the environment or defaults.
    ///
    /// ```
    /// let settings = observe_runtime::config::Config::new().resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(settings.service_name, "app");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Log filter in `EnvFilter` syntax (beats `RUST_LOG`).
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

    /// Log format (beats `OBSERVE_LOG_FORMAT`).
    ///
    /// ```
    /// use observe_runtime::config::{Config, LogFormat};
    /// let s = Config::new().log_format(LogFormat::Json).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.log_format, LogFormat::Json);
    /// ```
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
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

    /// Serve `/metrics` on `addr` (beats `OBSERVE_METRICS_ADDR`).
    ///
    /// ```
    /// let addr = "127.0.0.1:9464".parse().unwrap();
    /// let s = observe_runtime::config::Config::new().metrics_addr(addr)
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.metrics_addr, Some(addr));
    /// ```
    pub fn metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
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
    /// assert_eq!(s.service_name, "songs");
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute. Any call replaces `OTEL_RESOURCE_ATTRIBUTES` as a whole.
    ///
    /// ```
    /// let s = observe_runtime::config::Config::new()
    ///     .resource_attribute("deployment.environment.name", "prod")
    ///     .resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.resource_attributes, [("deployment.environment.name".into(), "prod".into())]);
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
    /// assert_eq!(s.traces.unwrap().endpoint, "http://127.0.0.1:4318/v1/traces");
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
    /// assert_eq!(s.traces.unwrap().endpoint, "http://127.0.0.1:4318/custom");
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
    /// let t = s.traces.unwrap();
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
    /// let t = s.traces.unwrap();
    /// assert_eq!(t.headers.iter().collect::<Vec<_>>(), [("authorization", "Bearer t0ken")]);
    /// ```
    pub fn otlp_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.otlp_headers
            .get_or_insert_with(Vec::new)
            .push((name.into(), Secret::new(value.into())));
        self
    }

    /// Export timeout (beats the timeout variables).
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = observe_runtime::config::Config::new().otlp_endpoint("http://127.0.0.1:4318")
    ///     .otlp_timeout(Duration::from_secs(2)).resolve_with(|_| None, "app").unwrap();
    /// assert_eq!(s.traces.unwrap().timeout, Duration::from_secs(2));
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
        // An empty (or all-blank) variable counts as unset, as the OTel spec has it.
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        // The first of `names` that is set, with its name.
        let first = |names: &[&'static str]| names.iter().find_map(|&n| get(n).map(|v| (n, v)));

        // Logs.
        let log_filter = match self.log_filter {
            Some(f) => {
                env::validate_log_filter(&f)
                    .map_err(|p| ConfigError::code("Config::log_filter", Some(f.clone()), p))?;
                env::normalise_log_filter(&f)
            }
            None => match get("RUST_LOG") {
                Some(f) => {
                    env::validate_log_filter(&f)
                        .map_err(|p| ConfigError::env("RUST_LOG", &f, p))?;
                    env::normalise_log_filter(&f)
                }
                None => DEFAULT_LOG_FILTER.to_owned(),
            },
        };
        let log_format = match self.log_format {
            Some(f) => f,
            None => get("OBSERVE_LOG_FORMAT")
                .map(|v| env::parse_log_format("OBSERVE_LOG_FORMAT", &v))
                .transpose()?
                .unwrap_or_default(),
        };
        let log_lossy = match self.log_lossy {
            Some(l) => l,
            None => get("OBSERVE_LOG_LOSSY")
                .map(|v| env::parse_bool("OBSERVE_LOG_LOSSY", &v))
                .transpose()?
                .unwrap_or(false),
        };

        // Metrics.
        let metrics_addr = match self.metrics_addr {
            Some(a) => Some(a),
            None => get("OBSERVE_METRICS_ADDR")
                .map(|v| env::parse_socket_addr("OBSERVE_METRICS_ADDR", &v))
                .transpose()?,
        };
        let histogram_buckets = match self.histogram_buckets {
            Some(b) => {
                validate_buckets(&b).map_err(|p| {
                    ConfigError::code("Config::histogram_buckets", Some(format!("{b:?}")), p)
                })?;
                b
            }
            None => DEFAULT_BUCKETS.to_vec(),
        };
        let cardinality_limit = match self.cardinality_limit {
            Some(0) => {
                return Err(ConfigError::code(
                    "Config::cardinality_limit",
                    Some("0".into()),
                    "must be greater than 0",
                ));
            }
            Some(n) => n,
            None => DEFAULT_CARDINALITY_LIMIT,
        };

        // Resource.
        let mut resource_attributes = match self.resource_attributes {
            Some(attrs) => {
                if let Some(i) = attrs.iter().position(|(k, _)| k.is_empty()) {
                    return Err(ConfigError::code(
                        "Config::resource_attribute",
                        None,
                        format!("attribute {} has an empty key", i + 1),
                    ));
                }
                attrs
            }
            None => match get("OTEL_RESOURCE_ATTRIBUTES") {
                Some(v) => env::parse_key_values(&v)
                    .map_err(|p| ConfigError::env("OTEL_RESOURCE_ATTRIBUTES", &v, p))?,
                None => Vec::new(),
            },
        };
        // The last `service.name` attribute wins, as later keys overwrite earlier ones.
        let attr_service_name = resource_attributes
            .iter()
            .rev()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone());
        resource_attributes.retain(|(k, _)| k != "service.name");
        let service_name = match self.service_name {
            Some(n) if n.trim().is_empty() => {
                return Err(ConfigError::code(
                    "Config::service_name",
                    Some(n),
                    "must not be empty",
                ));
            }
            Some(n) => n,
            None => get("OTEL_SERVICE_NAME")
                .map(|v| v.trim().to_owned())
                .or(attr_service_name)
                .unwrap_or_else(|| default_service_name.to_owned()),
        };

        // Sampler.
        let sampler = match self.sampler {
            Some(s) => {
                if let Sampler::TraceIdRatio(r) | Sampler::ParentBasedTraceIdRatio(r) = s
                    && !(0.0..=1.0).contains(&r)
                {
                    return Err(ConfigError::code(
                        "Config::sampler",
                        Some(format!("{s:?}")),
                        "the ratio must be between 0 and 1",
                    ));
                }
                s
            }
            None => match get("OTEL_TRACES_SAMPLER") {
                Some(v) => env::parse_sampler(
                    "OTEL_TRACES_SAMPLER",
                    &v,
                    "OTEL_TRACES_SAMPLER_ARG",
                    get("OTEL_TRACES_SAMPLER_ARG").as_deref(),
                )?,
                None => Sampler::default(),
            },
        };

        // Trace export. Everything is validated even when export ends up off.
        let enabled = match self.trace_export {
            Some(e) => e,
            None => {
                let disabled = get("OTEL_SDK_DISABLED")
                    .map(|v| env::parse_bool("OTEL_SDK_DISABLED", &v))
                    .transpose()?
                    .unwrap_or(false);
                let exporter = get("OTEL_TRACES_EXPORTER")
                    .map(|v| env::parse_traces_exporter("OTEL_TRACES_EXPORTER", &v))
                    .transpose()?
                    .unwrap_or(true);
                !disabled && exporter
            }
        };
        let protocol = match self.otlp_protocol {
            Some(p) => p,
            None => match first(&[
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ]) {
                Some((var, v)) => env::parse_protocol(var, &v)?,
                None => Protocol::default(),
            },
        };
        // (url, is it signal-specific?)
        let endpoint = if let Some(url) = self.otlp_traces_endpoint {
            let url = env::validate_endpoint(&url).map_err(|p| {
                ConfigError::code("Config::otlp_traces_endpoint", Some(url.clone()), p)
            })?;
            Some((url, true))
        } else if let Some(url) = self.otlp_endpoint {
            let url = env::validate_endpoint(&url)
                .map_err(|p| ConfigError::code("Config::otlp_endpoint", Some(url.clone()), p))?;
            Some((url, false))
        } else if let Some((var, v)) = first(&[
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]) {
            let url = env::validate_endpoint(&v).map_err(|p| ConfigError::env(var, &v, p))?;
            Some((url, var == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        } else {
            None
        };
        let headers = match self.otlp_headers {
            Some(h) => {
                for (i, (k, v)) in h.iter().enumerate() {
                    env::validate_header(i + 1, k, v.expose())
                        .map_err(|p| ConfigError::code("Config::otlp_header", None, p))?;
                }
                Headers::from_pairs(h.into_iter().map(|(k, v)| (k, v.expose().clone())))
            }
            None => match first(&[
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "OTEL_EXPORTER_OTLP_HEADERS",
            ]) {
                Some((var, v)) => {
                    let pairs =
                        env::parse_key_values(&v).map_err(|p| ConfigError::env_secret(var, p))?;
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        env::validate_header(i + 1, k, v)
                            .map_err(|p| ConfigError::env_secret(var, p))?;
                    }
                    Headers::from_pairs(pairs)
                }
                None => Headers::default(),
            },
        };
        let timeout = match self.otlp_timeout {
            Some(t) if t.is_zero() => {
                return Err(ConfigError::code(
                    "Config::otlp_timeout",
                    Some(format!("{t:?}")),
                    "must be greater than 0",
                ));
            }
            Some(t) => t,
            None => match first(&[
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ]) {
                Some((var, v)) => env::parse_timeout_ms(var, &v)?,
                None => DEFAULT_OTLP_TIMEOUT,
            },
        };

        let traces = match endpoint {
            Some((url, signal_specific)) if enabled => {
                let endpoint = match protocol {
                    Protocol::HttpProtobuf if !signal_specific => {
                        format!("{}/v1/traces", url.trim_end_matches('/'))
                    }
                    _ => url,
                };
                Some(TraceExport {
                    endpoint,
                    protocol,
                    headers,
                    timeout,
                    sampler,
                    service_name: service_name.clone(),
                    resource_attributes: resource_attributes.clone(),
                })
            }
            _ => None,
        };

        Ok(Settings {
            log_filter,
            log_format,
            log_lossy,
            metrics_addr,
            histogram_buckets,
            cardinality_limit,
            service_name,
            resource_attributes,
            sampler,
            traces,
        })
    }
}

fn validate_buckets(buckets: &[f64]) -> Result<(), String> {
    if buckets.is_empty() {
        return Err("needs at least one bucket".into());
    }
    if let Some(b) = buckets.iter().find(|b| !b.is_finite() || **b <= 0.0) {
        return Err(format!(
            "bucket {b} is not a finite positive number of seconds"
        ));
    }
    if let Some(w) = buckets.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "buckets must be strictly increasing ({} then {})",
            w[0], w[1]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
