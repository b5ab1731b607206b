//! How an opentelemetry-otlp exporter builder is set up for an [`OtlpTarget`], whatever
//! signal it exports: gRPC through tonic with observe's metadata and TLS, HTTP/protobuf
//! through observe's hyper client. Each signal then calls its own `.build()`.

use std::collections::HashMap;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};

use crate::config::OtlpTarget;
use crate::otlp::{ExportError, grpc, http, tls};

/// A tonic exporter builder (`XExporter::builder().with_tonic()`) set up for `target`.
pub(crate) fn tonic<B: WithExportConfig + WithTonicConfig>(builder: B, target: &OtlpTarget) -> B {
    let builder = builder
        .with_endpoint(target.endpoint.clone())
        .with_timeout(target.timeout)
        .with_metadata(grpc::metadata(target));
    if target.is_tls() {
        builder.with_tls_config(tls::tonic_config(&target.tls))
    } else {
        builder
    }
}

/// An HTTP exporter builder (`XExporter::builder().with_http()`) set up for `target`.
pub(crate) fn http<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    target: &OtlpTarget,
) -> Result<B, ExportError> {
    // `with_headers` percent-decodes values, which `Config` already did: escape `%`.
    let headers: HashMap<String, String> = target
        .headers
        .iter()
        .map(|(k, v)| (k.to_owned(), v.replace('%', "%25")))
        .collect();
    Ok(builder
        .with_http_client(http::client(target)?)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(target.endpoint.clone())
        .with_timeout(target.timeout)
        .with_headers(headers))
}
