//! The HTTP/protobuf client: hyper with rustls, plaintext for `http://` and TLS for
//! `https://` endpoints.
//!
//! opentelemetry-otlp is handed this client instead of building one from its own client
//! features: observe turns none of those on, so an application depending on
//! opentelemetry-otlp with any of them (its default blocking reqwest client first) builds.

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry_http::hyper::HyperClient;

use super::{ExportError, tls};
use crate::config::OtlpTarget;

/// The client for `target`, taking at most `target.timeout` per request.
pub(crate) fn client(target: &OtlpTarget) -> Result<Client, ExportError> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls::rustls_config(&target.tls)?)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(HyperClient::new(connector, target.timeout, None))
}

/// The HTTP client of every OTLP/HTTP export.
pub(crate) type Client = HyperClient<HttpsConnector<HttpConnector>>;
