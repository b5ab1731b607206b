//! Configuration: a [`Config`] builder whose settings beat the environment, resolved into
//! validated [`Settings`].
//!
//! Every setting is optional in [`Config`]; [`Config::resolve`] fills each unset one from the
//! environment, then from the default. A bad value, from code or environment, is a
//! [`ConfigError`] that names the variable (or builder method) and the problem.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `RUST_LOG` | `info` | log-line filter (`EnvFilter` syntax) |
//! | `OBSERVE_METRICS_FILTER` | `trace` | metrics filter: every observed call is counted |
//! | `OBSERVE_TRACES_FILTER` | `info` | filter of exported spans |
//! | `OBSERVE_LOG_FORMAT` | `logfmt` | `logfmt`, `json` or `off` |
//! | `OBSERVE_SPAN_LINES` | `open,close` | `open,close`, `close` (the close line only) or `off` |
//! | `OBSERVE_LOG_LOSSY` | `false` | `true`: drop log lines when the writer falls behind instead of blocking the application |
//! | `OBSERVE_METRICS_ADDR` | unset | serve `/metrics` on this `HOST:PORT` (`127.0.0.1:9464`, `localhost:9464`, `[::]:9464`) |
//! | `OBSERVE_SPAN_EVENTS` | `warn` | events at this level or more severe become span events of exported spans (`error` … `trace`, `off`) |
//! | `OTEL_SERVICE_NAME` | `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else the caller's default (the binary's name) | resource `service.name` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | none | `k=v,k2=v2`, percent-decoded |
//! | `OTEL_SDK_DISABLED` | `false` | `true` turns every OTLP export off |
//! | `OTEL_TRACES_EXPORTER` | `otlp` | `otlp` or `none` (trace export off) |
//! | `OTEL_METRICS_EXPORTER` | `prometheus` | `prometheus` (serve `/metrics`), `otlp` (push), both comma-separated, or `none` |
//! | `OTEL_LOGS_EXPORTER` | `none` | `otlp`: log lines also go to the collector as log records |
//! | `OTEL_METRIC_EXPORT_INTERVAL` | `60000` | metrics push interval in ms |
//! | `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` | `cumulative` | `cumulative`, `delta` or `lowmemory` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset = no export | collector base URL; for `http/protobuf`, `/v1/traces`, `/v1/metrics` or `/v1/logs` is appended |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `_METRICS_ENDPOINT`, `_LOGS_ENDPOINT` | | one signal's collector URL, used as is |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` | `grpc` or `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_HEADERS` | none | `k=v,…`, percent-decoded; secret: never logged or echoed |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` | `10000` | export request timeout in ms |
//! | `OTEL_EXPORTER_OTLP_CERTIFICATE` | none | PEM file: a CA to trust besides the system roots (`https://` endpoints) |
//! | `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_KEY` | none | PEM files: a client identity for mutual TLS, given together |
//! | `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT` | `16384`, `512`, `5000`, `30000` | span batching (ms for times) |
//! | `OTEL_BLRP_MAX_QUEUE_SIZE`, `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BLRP_SCHEDULE_DELAY`, `OTEL_BLRP_EXPORT_TIMEOUT` | `2048`, `512`, `1000`, `30000` | log record batching (ms for times) |
//! | `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT` | `128` each | span limits |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `parentbased_always_on` | sampler and its ratio |
//!
//! The protocol, headers, timeout and TLS variables have per-signal variants too
//! (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_LOGS_HEADERS`, …). Where a
//! signal-specific variable and the generic one are both set, the signal-specific one wins;
//! a setting made in code applies to every signal. An empty variable counts as unset.
//! Booleans are `true` or `false`, case-insensitive. The reference (`docs/reference.md`,
//! "Environment variables") says more of each.
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
//! assert_eq!(settings.log_format, Some(LogFormat::Logfmt));
//! assert_eq!(settings.resource.service_name, "songs");
//! let traces = settings.traces.expect("an endpoint turns export on");
//! assert_eq!(traces.target.protocol, Protocol::HttpProtobuf);
//! assert_eq!(traces.target.endpoint, "http://collector:4318/v1/traces");
//! # Ok::<(), observe_runtime::config::ConfigError>(())
//! ```

mod builder;
mod env;
mod error;
mod export;
mod resolve;
mod secret;
mod settings;
mod targets;

use std::time::Duration;

pub use crate::context::Sampler;
pub use crate::log::{LogFormat, SpanLines};
pub use crate::metrics::{BuildInfo, DEFAULT_BUCKETS, DEFAULT_CARDINALITY_LIMIT};
pub use builder::Config;
pub(crate) use env::redact_userinfo;
pub use error::{ConfigError, Origin};
pub use export::{
    BatchSettings, LogsExport, MetricsExport, OtlpTarget, Pem, Protocol, ResourceSettings,
    SpanLimits, Temporality, TlsFiles, TraceExport,
};
pub use secret::{Headers, Secret};
pub use settings::{MetricsAddr, MetricsExporters, Settings};

/// The default OTLP export timeout (the OTel spec's 10 s).
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);
/// The default log-line filter.
pub const DEFAULT_LOG_FILTER: &str = "info";
/// The default metrics filter: every observed call is counted, whatever its level.
pub const DEFAULT_METRICS_FILTER: &str = "trace";
/// The default filter of exported spans.
pub const DEFAULT_TRACES_FILTER: &str = "info";

#[cfg(test)]
mod tests;
