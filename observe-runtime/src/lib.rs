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
