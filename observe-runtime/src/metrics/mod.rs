//! Prometheus metrics from spans: a counter and a duration histogram per `#[observe]` call.
//!
//! [`Metrics`] owns a Prometheus recorder; [`Metrics::layer`] gives a
//! [`Signals`](crate::Signals) layer that feeds it from closed spans, [`Metrics::render`] the text exposition, and
//! [`Metrics::serve`] a `/metrics` endpoint ([`MetricsServer`]).
//!
//! A span with a `metric_name` field counts into `<metric_name>_total` and observes its
//! latency into `<metric_name>_duration_seconds`, labelled by its `metric_label_<k>` fields
//! in declaration order, then `result` (`ok`, `error` or `cancelled`):
//!
//! ```text
//! db_event_total{event_table="events",event_type="Song",result="ok"} 8
//! db_event_duration_seconds_bucket{event_table="events",event_type="Song",result="ok",le="0.005"} 3
//! ```
//!
//! Each metric keeps at most [`MetricsConfig::cardinality_limit`] label sets (a label set
//! includes `result`). Past it, observations go to one series per metric labelled only
//! `otel_metric_overflow="true"`, as OpenTelemetry's SDKs do: no `result` there, so a
//! runaway label cannot fan out again through it. The first overflow of each metric logs
//! one WARN event (target `observe_runtime::metrics::sink`).
//!
//! ```
//! use observe_runtime::metrics::{Metrics, MetricsConfig};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let metrics = Metrics::new(MetricsConfig::default()).unwrap();
//! let subscriber = tracing_subscriber::registry().with(metrics.layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!(
//!         "save",
//!         metric_name = "db_event",
//!         metric_label_attempt = 2_u64,
//!         observe.result = tracing::field::Empty,
//!     );
//!     span.record("observe.result", "error"); // what `#[observe]` records for an `Err`
//! });
//! assert!(metrics.render().contains(r#"db_event_total{attempt="2",result="error"} 1"#));
//! ```

mod build_info;
mod cache;
mod config;
mod exemplar;
mod exposition;
mod family;
mod format;
mod global;
mod in_flight;
mod labels;
mod model;
#[cfg(feature = "otlp")]
mod otlp;
mod process;
#[cfg(feature = "otlp")]
mod push;
mod recording;
mod scrape;
mod series;
mod server;
mod sink;

pub use build_info::BuildInfo;
pub(crate) use config::validate_buckets;
pub use config::{
    DEFAULT_BUCKETS, DEFAULT_CARDINALITY_LIMIT, HTTP_BUCKETS, HTTP_DURATION_METRIC, MetricsConfig,
};
pub use exposition::{InstallError, Metrics, Scrape};
pub(crate) use global::{forward_to, install_forwarder};
pub(crate) use in_flight::InFlightCall;
#[cfg(feature = "otlp")]
pub use push::MetricsPush;
pub use server::MetricsServer;
pub(crate) use sink::{MetricsSink, warn_overflow};
