//! The export settings of each signal: where it goes over OTLP (endpoint, transport,
//! headers, TLS), and how it is batched and bounded.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;

use super::env::redact_userinfo;
use super::secret::Headers;

/// OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// OTLP/gRPC (tonic).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (the OTel spec default).
    #[default]
    HttpProtobuf,
}

/// How finished spans are batched for export (`OTEL_BSP_*`).
///
/// ```
/// use observe_runtime::config::BatchSettings;
///
/// let batch = BatchSettings::default();
/// assert_eq!(batch.max_queue_size, 16_384);
/// assert_eq!(batch.max_export_batch_size, 512);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchSettings {
    /// Spans waiting for export at most (`OTEL_BSP_MAX_QUEUE_SIZE`); past it new spans are
    /// dropped and counted in `observe_spans_dropped_total`. The specification's default,
    /// 2,048, loses most of a burst of 10,000 spans (a batch job, a fan-out) even with the
    /// collector up, so observe's is 16,384; the queue takes memory only while spans wait.
    pub max_queue_size: usize,
    /// Spans per export request (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512).
    pub max_export_batch_size: usize,
    /// Longest wait before a partial batch is exported (`OTEL_BSP_SCHEDULE_DELAY`, 5 s).
    pub schedule_delay: Duration,
    /// Longest one export may take (`OTEL_BSP_EXPORT_TIMEOUT`, 30 s).
    pub export_timeout: Duration,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            max_queue_size: 16_384,
            max_export_batch_size: 512,
            schedule_delay: Duration::from_millis(5_000),
            export_timeout: Duration::from_millis(30_000),
        }
    }
}

/// Bounds on what one exported span carries (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`,
/// `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`,
/// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`; 128 each by default, as the specification says).
/// What goes past a limit is counted on the span (`dropped_*_count`), not kept: a
/// long-lived span that logs without end keeps a bounded record.
///
/// ```
/// use observe_runtime::config::SpanLimits;
///
/// let limits = SpanLimits::default();
/// assert_eq!((limits.attributes, limits.events, limits.links), (128, 128, 128));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpanLimits {
    /// Attributes per span.
    pub attributes: usize,
    /// Events per span.
    pub events: usize,
    /// Links per span.
    pub links: usize,
    /// Attributes per span event.
    pub event_attributes: usize,
}

impl Default for SpanLimits {
    fn default() -> Self {
        SpanLimits {
            attributes: 128,
            events: 128,
            links: 128,
            event_attributes: 128,
        }
    }
}

/// Where one signal is exported over OTLP: the exact URL, the transport, the headers sent
/// with every request, the request timeout and the TLS material.
///
/// `Debug` shows header names but never their values, nor URL credentials.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct OtlpTarget {
    /// The exact URL the exporter sends to (for `http/protobuf` from the generic endpoint,
    /// with `/v1/traces`, `/v1/metrics` or `/v1/logs` appended).
    pub endpoint: String,
    /// Transport.
    pub protocol: Protocol,
    /// Headers (gRPC metadata) sent with every export.
    pub headers: Headers,
    /// Timeout of one request to the collector.
    pub timeout: Duration,
    /// Certificates for `https://` endpoints, beyond the system's roots.
    pub tls: TlsFiles,
}

impl OtlpTarget {
    /// Whether the endpoint is `https://`.
    pub fn is_tls(&self) -> bool {
        self.endpoint
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

impl fmt::Debug for OtlpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpTarget")
            .field("endpoint", &redact_userinfo(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// The PEM files of `OTEL_EXPORTER_OTLP_CERTIFICATE`, `_CLIENT_CERTIFICATE` and
/// `_CLIENT_KEY` (or their per-signal variants), read and checked when the settings are
/// resolved, so that a missing or malformed file fails `init`, naming its variable.
///
/// `Debug` shows the paths, never the key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// A CA to trust besides the system roots (`…_CERTIFICATE`).
    pub ca: Option<Pem>,
    /// A client certificate chain and its key, for mutual TLS (`…_CLIENT_CERTIFICATE`,
    /// `…_CLIENT_KEY`).
    pub client: Option<(Pem, Pem)>,
}

impl fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsFiles")
            .field("ca", &self.ca.as_ref().map(|pem| &pem.path))
            .field(
                "client_certificate",
                &self.client.as_ref().map(|c| &c.0.path),
            )
            .field("client_key", &self.client.as_ref().map(|c| &c.1.path))
            .finish()
    }
}

/// A PEM file, as read.
#[derive(Clone, PartialEq, Eq)]
pub struct Pem {
    /// Where it was read from.
    pub path: PathBuf,
    pub(crate) bytes: Vec<u8>,
}

/// The resource of every exported item: `service.name` and the other attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceSettings {
    /// Resource `service.name`.
    pub service_name: String,
    /// Other resource attributes, in order.
    pub attributes: Vec<(String, String)>,
}

/// The resolved trace-export settings, what
/// [`TracePipeline::start`](crate::trace::TracePipeline::start) takes.
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
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TraceExport {
    /// Where spans go.
    pub target: OtlpTarget,
    /// The resource.
    pub resource: ResourceSettings,
    /// Batching (`OTEL_BSP_*`).
    pub batch: BatchSettings,
    /// Span limits.
    pub limits: SpanLimits,
    /// Events at this level or more severe inside an exported span become span events
    /// (`OBSERVE_SPAN_EVENTS`, default `warn`); the `err` event and a panic always do.
    pub span_event_level: LevelFilter,
}

/// Whether pushed sums and histograms are cumulative (since the start) or deltas (since
/// the last push) (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Temporality {
    /// Since the process started (the default, and what Prometheus shows).
    #[default]
    Cumulative,
    /// Since the last push (`delta`, and `lowmemory`, which is delta for counters and
    /// histograms).
    Delta,
}

/// The resolved settings of the OTLP metrics push (`OTEL_METRICS_EXPORTER=otlp`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MetricsExport {
    /// Where metrics go.
    pub target: OtlpTarget,
    /// The resource.
    pub resource: ResourceSettings,
    /// Time between pushes (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s).
    pub interval: Duration,
    /// Cumulative or delta.
    pub temporality: Temporality,
}

/// The resolved settings of the OTLP logs export (`OTEL_LOGS_EXPORTER=otlp`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LogsExport {
    /// Where log records go.
    pub target: OtlpTarget,
    /// The resource.
    pub resource: ResourceSettings,
    /// Batching (`OTEL_BLRP_*`: 2,048 records queued at most, 512 per export, every
    /// second).
    pub batch: BatchSettings,
}
