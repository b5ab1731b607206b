//! tracing-subscriber layers that turn `#[observe]` spans into logs, Prometheus metrics and
//! OpenTelemetry traces, and [`init`] that composes them from the environment.

pub mod config;
pub mod context;
pub mod fields;
#[cfg(feature = "http")]
pub mod http;
mod init;
pub mod log;
pub mod metrics;
pub mod otel;
pub mod value;

pub use init::{Guard, InitError, SHUTDOWN_TIMEOUT, init};
