//! The OTLP span exporter of opentelemetry-otlp: gRPC through tonic, HTTP/protobuf through
//! observe's hyper client, TLS as `otlp::tls` configures it.

use std::collections::HashMap;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};

use crate::config::{OtlpTarget, Protocol};
use crate::otlp::{ExportError, grpc, http, tls};

/// The OTLP exporter for `target`; call inside the export runtime's context (tonic starts
/// its connection task there). Never connects: a collector that is down blocks nothing.
pub(crate) fn otlp(target: &OtlpTarget) -> Result<opentelemetry_otlp::SpanExporter, ExportError> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match target.protocol {
        Protocol::Grpc => {
            let builder = builder
                .with_tonic()
                .with_endpoint(target.endpoint.clone())
                .with_timeout(target.timeout)
                .with_metadata(grpc::metadata(target));
            if target.is_tls() {
                builder
                    .with_tls_config(tls::tonic_config(&target.tls))
                    .build()
            } else {
                builder.build()
            }
        }
        Protocol::HttpProtobuf => {
            // `with_headers` percent-decodes values, which `Config` already did: escape `%`.
            let headers: HashMap<String, String> = target
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), v.replace('%', "%25")))
                .collect();
            builder
                .with_http()
                .with_http_client(http::client(target)?)
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(target.endpoint.clone())
                .with_timeout(target.timeout)
                .with_headers(headers)
                .build()
        }
    };
    exporter.map_err(ExportError::Exporter)
}
