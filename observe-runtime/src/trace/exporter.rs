//! The OTLP span exporter (opentelemetry-otlp: gRPC through tonic, HTTP/protobuf through
//! hyper) and the tokio runtime it runs on.
//!
//! The runtime is the pipeline's own (threads named `observe-export`), whatever runtime the
//! application uses, or none; its threads carry a no-op tracing dispatcher, so the
//! exporter's own hyper/h2/tonic spans and events never feed back into the pipeline.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use tracing::Dispatch;

use super::TraceError;
use crate::config::{Protocol, TraceExport};

/// The name of the export runtime's threads.
pub(crate) const THREAD_NAME: &str = "observe-export";

/// A runtime for the exporter: one worker thread, quiet.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, TraceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .thread_name(THREAD_NAME)
        .enable_all()
        .on_thread_start(|| {
            // The exporter's own spans and events go nowhere, for this thread's life.
            std::mem::forget(tracing::dispatcher::set_default(&Dispatch::none()));
        })
        .build()
        .map_err(TraceError::Runtime)
}

/// The OTLP exporter for `settings`; call inside `runtime`'s context (tonic starts its
/// connection task there). Never connects: a collector that is down does not block.
pub(crate) fn otlp(settings: &TraceExport) -> Result<opentelemetry_otlp::SpanExporter, TraceError> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match settings.protocol {
        Protocol::Grpc => {
            let mut metadata = opentelemetry_otlp::tonic_types::metadata::MetadataMap::new();
            // Names and values were validated by `Config::resolve` (tokens, visible ASCII).
            *metadata.as_mut() = settings
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.parse().ok()?, v.parse().ok()?)))
                .collect();
            builder
                .with_tonic()
                .with_endpoint(settings.endpoint.clone())
                .with_timeout(settings.timeout)
                .with_metadata(metadata)
                .build()
        }
        Protocol::HttpProtobuf => {
            // `with_headers` percent-decodes values, which `Config` already did: escape `%`.
            let headers: HashMap<String, String> = settings
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), v.replace('%', "%25")))
                .collect();
            builder
                .with_http()
                .with_http_client(http_client(settings.timeout))
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(settings.endpoint.clone())
                .with_timeout(settings.timeout)
                .with_headers(headers)
                .build()
        }
    };
    exporter.map_err(TraceError::Exporter)
}

/// The HTTP client of the HTTP/protobuf exporter, chosen here rather than by
/// opentelemetry-otlp's client features: an application that also depends on
/// opentelemetry-otlp with its defaults (the blocking reqwest client) then builds, since
/// observe turns on none of them.
fn http_client(timeout: Duration) -> opentelemetry_http::hyper::HyperClient {
    opentelemetry_http::hyper::HyperClient::with_default_connector(timeout, None)
}
