//! TLS for `https://` endpoints: rustls with the ring provider, the system's roots, the
//! CA of `OTEL_EXPORTER_OTLP_CERTIFICATE` and the client identity of
//! `_CLIENT_CERTIFICATE` / `_CLIENT_KEY`. A certificate that does not verify fails the
//! export; nothing ever falls back to plaintext.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use super::ExportError;
use crate::config::TlsFiles;

/// The rustls configuration of the HTTP/protobuf client.
pub(crate) fn rustls_config(files: &TlsFiles) -> Result<ClientConfig, ExportError> {
    let mut roots = RootCertStore::empty();
    // The system's roots; one unreadable system certificate is no reason to refuse the
    // others (the loader reports those alongside the ones it read).
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(ca) = &files.ca {
        for certificate in CertificateDer::pem_slice_iter(&ca.bytes) {
            let certificate = certificate.map_err(|e| tls_error(&ca.path, e))?;
            roots.add(certificate).map_err(|e| tls_error(&ca.path, e))?;
        }
    }
    // The provider is named, not taken from the process default: an application that
    // also builds rustls with another provider must not make this ambiguous.
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| ExportError::Tls(e.to_string()))?
            .with_root_certificates(roots);
    match &files.client {
        Some((certificate, key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(&certificate.bytes)
                    .collect::<Result<_, _>>()
                    .map_err(|e| tls_error(&certificate.path, e))?;
            let key =
                PrivateKeyDer::from_pem_slice(&key.bytes).map_err(|e| tls_error(&key.path, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ExportError::Tls(format!("the client certificate and key: {e}")))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The tonic configuration of the gRPC transport: the same roots and identity.
pub(crate) fn tonic_config(files: &TlsFiles) -> tonic::transport::ClientTlsConfig {
    let mut config = tonic::transport::ClientTlsConfig::new().with_native_roots();
    if let Some(ca) = &files.ca {
        config = config.ca_certificate(tonic::transport::Certificate::from_pem(&ca.bytes));
    }
    if let Some((certificate, key)) = &files.client {
        config = config.identity(tonic::transport::Identity::from_pem(
            &certificate.bytes,
            &key.bytes,
        ));
    }
    config
}

fn tls_error(path: &std::path::Path, error: impl std::fmt::Display) -> ExportError {
    ExportError::Tls(format!("{}: {error}", path.display()))
}
