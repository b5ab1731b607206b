//! The gRPC channel (tonic) for what observe sends itself: one lazily connected channel per
//! export, TLS for `https://` endpoints, the configured headers as metadata on every call.

use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use super::{ExportError, tls};
use crate::config::OtlpTarget;

/// A channel to `target` that connects on first use (a collector that is down blocks
/// nothing at start), with `target.timeout` per call.
pub(crate) fn channel(target: &OtlpTarget) -> Result<Channel, ExportError> {
    let endpoint = Endpoint::from_shared(target.endpoint.clone())
        .map_err(|e| ExportError::Endpoint(e.to_string()))?
        .timeout(target.timeout);
    let endpoint = if target.is_tls() {
        endpoint
            .tls_config(tls::tonic_config(&target.tls))
            .map_err(|e| ExportError::Tls(e.to_string()))?
    } else {
        endpoint
    };
    Ok(endpoint.connect_lazy())
}

/// The configured headers as gRPC metadata (names and values were validated by `Config`).
pub(crate) fn metadata(target: &OtlpTarget) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    for (name, value) in target.headers.iter() {
        if let (Ok(name), Ok(value)) = (
            MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes()),
            MetadataValue::try_from(value),
        ) {
            metadata.insert(name, value);
        }
    }
    metadata
}
