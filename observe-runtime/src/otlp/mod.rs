//! What the three OTLP exports share (feature `otlp`): the transport to the collector, TLS,
//! the runtime it runs on, the resource.
//!
//! - `tls.rs`: the rustls and tonic TLS configurations (system roots, an extra CA, a
//!   client identity for mutual TLS);
//! - `http.rs`: the HTTP/protobuf client (hyper with rustls);
//! - `grpc.rs`: the gRPC channel (tonic), for what observe sends itself (metrics);
//! - `queue.rs`: the bounded queue between the application's threads and an export thread;
//! - `runtime.rs`: the export runtime, whatever runtime the application runs (or none);
//! - `resource.rs`: `service.name` and the resource attributes, for the SDK and for OTLP.
//!
//! Traces and logs go through opentelemetry-otlp's exporters, handed this module's HTTP
//! client and TLS configuration; metrics through observe's own encoding (see
//! `metrics/otlp.rs`), over this module's channel or client.

pub(crate) mod builders;
pub(crate) mod grpc;
pub(crate) mod http;
pub(crate) mod queue;
pub(crate) mod resource;
pub(crate) mod runtime;
pub(crate) mod tls;

use std::fmt;

/// Why an OTLP export could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// The export runtime or thread could not start.
    Runtime(std::io::Error),
    /// The TLS configuration is unusable (a certificate or key rustls refuses).
    Tls(String),
    /// The endpoint is not a URI the transport accepts.
    Endpoint(String),
    /// opentelemetry-otlp refused to build its exporter.
    Exporter(opentelemetry_otlp::ExporterBuildError),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Runtime(e) => write!(f, "cannot start the export thread: {e}"),
            ExportError::Tls(e) => write!(f, "TLS: {e}"),
            ExportError::Endpoint(e) => write!(f, "endpoint: {e}"),
            ExportError::Exporter(e) => write!(f, "cannot build the OTLP exporter: {e}"),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Runtime(e) => Some(e),
            ExportError::Exporter(e) => Some(e),
            _ => None,
        }
    }
}
