//! Real OTLP clients: tonic's generated clients over a (TLS) channel, and hyper-util's
//! client over hyper-rustls. Each sends the three payloads with two extra headers.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use observe_testkit::otlp::{TlsFiles, Transport};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::payloads;

pub(crate) const AUTHORIZATION: &str = "Bearer test-token";
pub(crate) const TENANT: &str = "acme";

/// What a TLS client trusts and which certificate it shows.
#[derive(Clone, Debug)]
pub(crate) struct ClientTls {
    pub trust: PathBuf,
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl ClientTls {
    /// Trusts the receiver's CA, shows no certificate.
    pub(crate) fn trusting(files: &TlsFiles) -> ClientTls {
        ClientTls {
            trust: files.ca_certificate().to_owned(),
            identity: None,
        }
    }

    /// Trusts the receiver's CA and shows the client certificate it signed.
    pub(crate) fn mutual(files: &TlsFiles) -> ClientTls {
        ClientTls {
            identity: Some((
                files.client_certificate().to_owned(),
                files.client_key().to_owned(),
            )),
            ..ClientTls::trusting(files)
        }
    }
}

/// Every cause in an error chain, joined, so a test can look for the TLS reason.
pub(crate) fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Exports traces, metrics and logs to `endpoint` (no path) over `transport`.
pub(crate) async fn export_all(
    transport: Transport,
    endpoint: &str,
    tls: Option<&ClientTls>,
) -> Result<(), String> {
    match transport {
        Transport::Grpc => grpc_export_all(endpoint, tls).await,
        Transport::HttpProtobuf => {
            let client = HttpClient::new(tls);
            for (path, body) in [
                ("/v1/traces", payloads::traces().encode_to_vec()),
                ("/v1/metrics", payloads::metrics().encode_to_vec()),
                ("/v1/logs", payloads::logs().encode_to_vec()),
            ] {
                let (status, body) = client
                    .post(&format!("{endpoint}{path}"), "application/x-protobuf", body)
                    .await?;
                if status != StatusCode::OK {
                    return Err(format!(
                        "{path}: {status}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
            Ok(())
        }
    }
}

fn with_headers<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("authorization", AUTHORIZATION.parse().unwrap());
    metadata.insert("x-tenant", TENANT.parse().unwrap());
    request
}

async fn grpc_export_all(endpoint: &str, tls: Option<&ClientTls>) -> Result<(), String> {
    let mut channel = Channel::from_shared(endpoint.to_owned()).map_err(|e| chain(&e))?;
    if let Some(tls) = tls {
        let mut config =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&tls.trust)));
        if let Some((certificate, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(read(certificate), read(key)));
        }
        channel = channel.tls_config(config).map_err(|e| chain(&e))?;
    }
    let channel = channel.connect().await.map_err(|e| chain(&e))?;
    TraceServiceClient::new(channel.clone())
        .export(with_headers(payloads::traces()))
        .await
        .map_err(|e| chain(&e))?;
    MetricsServiceClient::new(channel.clone())
        .export(with_headers(payloads::metrics()))
        .await
        .map_err(|e| chain(&e))?;
    LogsServiceClient::new(channel)
        .export(with_headers(payloads::logs()))
        .await
        .map_err(|e| chain(&e))?;
    Ok(())
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// hyper-util's client over hyper-rustls: HTTP/1.1, or HTTP/2 when `http2_only`.
pub(crate) struct HttpClient {
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<bytes::Bytes>,
    >,
}

impl HttpClient {
    pub(crate) fn new(tls: Option<&ClientTls>) -> HttpClient {
        Self::with_versions(tls, false)
    }

    pub(crate) fn with_versions(tls: Option<&ClientTls>, http2_only: bool) -> HttpClient {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap();
        let config = match tls {
            // A plaintext client still needs a config to build the connector; it trusts
            // nothing and only ever speaks http://.
            None => builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
            Some(tls) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in CertificateDer::pem_file_iter(&tls.trust).unwrap() {
                    roots.add(certificate.unwrap()).unwrap();
                }
                let builder = builder.with_root_certificates(roots);
                match &tls.identity {
                    None => builder.with_no_client_auth(),
                    Some((certificate, key)) => builder
                        .with_client_auth_cert(
                            CertificateDer::pem_file_iter(certificate)
                                .unwrap()
                                .map(Result::unwrap)
                                .collect(),
                            PrivateKeyDer::from_pem_file(key).unwrap(),
                        )
                        .unwrap(),
                }
            }
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http();
        let connector = if http2_only {
            connector.enable_http2().build()
        } else {
            connector.enable_http1().build()
        };
        let client = Client::builder(TokioExecutor::new())
            .http2_only(http2_only)
            .build(connector);
        HttpClient { client }
    }

    /// POSTs `body`; the response status and body, or the connection error.
    pub(crate) async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, bytes::Bytes), String> {
        let request = Request::post(url)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::AUTHORIZATION, AUTHORIZATION)
            .header("x-tenant", TENANT)
            .body(Full::new(bytes::Bytes::from(body)))
            .unwrap();
        let response = self.client.request(request).await.map_err(|e| chain(&e))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| chain(&e))?
            .to_bytes();
        Ok((status, body))
    }
}
