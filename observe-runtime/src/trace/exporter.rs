//! The OTLP span exporter of opentelemetry-otlp: gRPC through tonic, HTTP/protobuf through
//! observe's hyper client, TLS as `otlp::tls` configures it.

use crate::config::{OtlpTarget, Protocol};
use crate::otlp::{ExportError, builders};

/// The OTLP exporter for `target`; call inside the export runtime's context (tonic starts
/// its connection task there). Never connects: a collector that is down blocks nothing.
pub(crate) fn otlp(target: &OtlpTarget) -> Result<opentelemetry_otlp::SpanExporter, ExportError> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match target.protocol {
        Protocol::Grpc => builders::tonic(builder.with_tonic(), target).build(),
        Protocol::HttpProtobuf => builders::http(builder.with_http(), target)?.build(),
    };
    exporter.map_err(ExportError::Exporter)
}
