//! The runtime of observe: one record per span, turned into log lines, Prometheus metrics
//! and OpenTelemetry traces, each signal with its own filter.
//!
//! What a service composes:
//!
//! - [`init`] / [`config::Config::init`]: everything from the environment, installed; a
//!   [`Guard`] that flushes on drop.
//! - [`Signals`]: the layer itself, built with [`Signals::builder`] from a
//!   [`log::LogOutput`], a [`metrics::Metrics`] registry and a trace pipeline's sink
//!   ([`trace::TracePipeline`]), each with a [`filter::SignalFilter`].
//! - [`metrics::Metrics`]: the registry, its exposition and its `/metrics` server.
//! - [`propagation::TraceContext`]: W3C trace context in and out, with export on or off.
//! - [`http`] (feature `http`): the tower/axum layer for server spans.
//!
//! # The public API
//!
//! | module | items |
//! | --- | --- |
//! | crate root | [`init`], [`Guard`], [`InitError`], [`SHUTDOWN_TIMEOUT`], [`Signals`], [`SignalsBuilder`] |
//! | [`config`] | [`Config`](config::Config) (the builder `init` reads), [`Settings`](config::Settings) (what it resolved to), [`ConfigError`](config::ConfigError) and its [`Origin`](config::Origin); the sections [`TraceExport`](config::TraceExport), [`MetricsExport`](config::MetricsExport), [`LogsExport`](config::LogsExport), [`OtlpTarget`](config::OtlpTarget), [`BatchSettings`](config::BatchSettings), [`SpanLimits`](config::SpanLimits), [`ResourceSettings`](config::ResourceSettings), [`TlsFiles`](config::TlsFiles), [`Pem`](config::Pem), [`Headers`](config::Headers), [`Secret`](config::Secret), [`MetricsAddr`](config::MetricsAddr), [`MetricsExporters`](config::MetricsExporters), [`Protocol`](config::Protocol), [`Temporality`](config::Temporality); the defaults |
//! | [`filter`] | [`SignalFilter`](filter::SignalFilter), [`FilterError`](filter::FilterError) |
//! | [`log`] | [`LogOutput`](log::LogOutput), [`LogFormat`](log::LogFormat), [`SpanLines`](log::SpanLines), [`LogExport`](log::LogExport) and [`LogRecordSink`](log::LogRecordSink) (OTLP logs), and the [`writer`](log::writer)s: [`NonBlockingWriter`](log::writer::NonBlockingWriter), [`BlockingWriter`](log::writer::BlockingWriter), [`MemorySink`](log::writer::MemorySink) |
//! | [`metrics`] | [`Metrics`](metrics::Metrics), [`Scrape`](metrics::Scrape), [`MetricsConfig`](metrics::MetricsConfig), [`MetricsServer`](metrics::MetricsServer), [`BuildInfo`](metrics::BuildInfo), [`InstallError`](metrics::InstallError), the default buckets and limit |
//! | [`trace`] (feature `otlp`) | [`TracePipeline`](trace::TracePipeline), [`TraceSink`](trace::TraceSink), [`TraceError`](trace::TraceError) |
//! | [`otlp`] (feature `otlp`) | [`ExportError`](otlp::ExportError) |
//! | [`propagation`] | [`TraceContext`](propagation::TraceContext), the header names |
//! | [`http`] (feature `http`) | [`ObserveLayer`](http::ObserveLayer), [`ObserveService`](http::ObserveService), [`RequestId`](http::RequestId), [`inject_trace_context`](http::inject_trace_context) |
//! | [`context`] | the span record that the signals read: [`SpanRecord`](context::SpanRecord), [`TraceId`](context::TraceId), [`SpanId`](context::SpanId), [`Outcome`](context::Outcome), [`Sampler`](context::Sampler), [`with_record`](context::with_record) |
//! | [`fields`], [`value`] | the span field names the macros write, and the typed values a record keeps |
//!
//! Cargo features, both off here and on by default in the `observe` facade: `otlp` builds
//! the OTLP export of traces, metrics and logs (tonic, hyper, rustls); `http` the tower/axum
//! layer. Without `otlp`, [`init`] fails when an OTLP endpoint is set
//! (`InitError::OtlpNotBuiltIn`) rather than drop what was asked for.
//!
//! The names, formats and behaviour that code, dashboards and alerts rely on (the span
//! fields, the log line format, the metric names, the filters, every environment variable,
//! the OTLP data) are in the reference: `docs/reference.md` in the repository, also
//! [`observe::reference`](https://docs.rs/observe/latest/observe/reference/index.html).
//!
//! Where things are: `context/` keeps the span records (ids, fields, outcome, links);
//! `filter/` decides which signals take a span; `signals/` is the layer; `log/`,
//! `metrics/` and `trace/` are the three signals; `propagation/` is W3C Trace Context;
//! `config/` and `init.rs` read the environment and start it all; `losses.rs` counts and
//! reports what is dropped; `observed.rs` is the static registry the macros fill (one
//! entry per observed function, known before the first call).

pub mod config;
pub mod context;
pub mod fields;
pub mod filter;
#[cfg(feature = "http")]
pub mod http;
mod init;
pub mod log;
#[cfg(feature = "otlp")]
mod losses;
pub mod metrics;
#[doc(hidden)]
pub mod observed;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod propagation;
mod signals;
#[cfg(feature = "otlp")]
pub mod trace;
pub mod value;

pub use init::{Guard, InitError, SHUTDOWN_TIMEOUT, init};
pub use signals::{Signals, SignalsBuilder};
