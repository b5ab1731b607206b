//! The receiver's TLS: a test certificate authority made with rcgen, the PEM files an
//! exporter is pointed at ([`TlsFiles`]), and the rustls server configuration both
//! transports share (server-authenticated, or mutual with client certificates required).
//!
//! Keys are ECDSA P-256 (rcgen's default): a receiver makes five in a few milliseconds.
//! Certificates are valid from 1975 to 4096 (rcgen's default), so no test meets an expiry.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use tempfile::TempDir;

/// How a [`Receiver`](super::Receiver) secures its connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS: `http://` endpoints.
    #[default]
    Plaintext,
    /// TLS with a server certificate signed by the receiver's test CA; clients trust that
    /// CA ([`TlsFiles::ca_certificate`]). `https://` endpoints.
    Tls,
    /// TLS where the receiver also requires a client certificate signed by its test CA
    /// ([`TlsFiles::client_certificate`], [`TlsFiles::client_key`]) and refuses a
    /// connection without one.
    MutualTls,
}

/// The PEM files of a TLS receiver's test PKI, in a temporary directory that is removed
/// when the receiver is dropped.
///
/// The server certificate is for `localhost` and the IP address `127.0.0.1`. The
/// "untrusted" CA is a second, unrelated authority with its own client certificate, for
/// tests that a wrong CA fails the handshake.
///
/// ```
/// use observe_testkit::otlp::{Receiver, TlsMode, Transport};
///
/// let receiver = Receiver::builder(Transport::HttpProtobuf).tls(TlsMode::MutualTls).start()?;
/// let files = receiver.tls_files().expect("a TLS receiver has files");
/// // What OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY point at:
/// let ca = std::fs::read_to_string(files.ca_certificate())?;
/// assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(std::fs::read_to_string(files.client_key())?.contains("PRIVATE KEY"));
/// assert_ne!(std::fs::read(files.untrusted_ca_certificate())?, ca.as_bytes());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TlsFiles {
    dir: TempDir,
    ca_certificate: PathBuf,
    server_certificate: PathBuf,
    server_key: PathBuf,
    client_certificate: PathBuf,
    client_key: PathBuf,
    untrusted_ca_certificate: PathBuf,
    untrusted_client_certificate: PathBuf,
    untrusted_client_key: PathBuf,
}

impl TlsFiles {
    /// The directory holding the files.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).start().unwrap();
    /// let files = r.tls_files().unwrap();
    /// assert!(files.ca_certificate().starts_with(files.dir()));
    /// ```
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The test CA's certificate (PEM): what a client trusts, i.e.
    /// `OTEL_EXPORTER_OTLP_CERTIFICATE`.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).start().unwrap();
    /// assert!(r.tls_files().unwrap().ca_certificate().is_file());
    /// ```
    pub fn ca_certificate(&self) -> &Path {
        &self.ca_certificate
    }

    /// The server's certificate (PEM), for `localhost` and `127.0.0.1`, signed by the CA.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).start().unwrap();
    /// assert!(r.tls_files().unwrap().server_certificate().is_file());
    /// ```
    pub fn server_certificate(&self) -> &Path {
        &self.server_certificate
    }

    /// The server's private key (PKCS#8 PEM).
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).start().unwrap();
    /// assert!(r.tls_files().unwrap().server_key().is_file());
    /// ```
    pub fn server_key(&self) -> &Path {
        &self.server_key
    }

    /// A client certificate (PEM) signed by the CA: `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::MutualTls).start().unwrap();
    /// assert!(r.tls_files().unwrap().client_certificate().is_file());
    /// ```
    pub fn client_certificate(&self) -> &Path {
        &self.client_certificate
    }

    /// The client certificate's private key (PKCS#8 PEM): `OTEL_EXPORTER_OTLP_CLIENT_KEY`.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::MutualTls).start().unwrap();
    /// assert!(r.tls_files().unwrap().client_key().is_file());
    /// ```
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// An unrelated CA's certificate (PEM): a client that trusts only this one must fail
    /// the handshake.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).start().unwrap();
    /// assert!(r.tls_files().unwrap().untrusted_ca_certificate().is_file());
    /// ```
    pub fn untrusted_ca_certificate(&self) -> &Path {
        &self.untrusted_ca_certificate
    }

    /// A client certificate (PEM) signed by the untrusted CA: a mutual-TLS receiver must
    /// refuse it.
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::MutualTls).start().unwrap();
    /// assert!(r.tls_files().unwrap().untrusted_client_certificate().is_file());
    /// ```
    pub fn untrusted_client_certificate(&self) -> &Path {
        &self.untrusted_client_certificate
    }

    /// The private key (PKCS#8 PEM) of [`untrusted_client_certificate`](Self::untrusted_client_certificate).
    ///
    /// ```
    /// # use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::MutualTls).start().unwrap();
    /// assert!(r.tls_files().unwrap().untrusted_client_key().is_file());
    /// ```
    pub fn untrusted_client_key(&self) -> &Path {
        &self.untrusted_client_key
    }
}

/// A TLS receiver's files and the server configuration made from them.
pub(crate) struct TlsSetup {
    pub(crate) files: TlsFiles,
    pub(crate) config: Arc<ServerConfig>,
}

/// Makes the test PKI, writes it to a new temp dir, and builds the server configuration
/// for `mode` offering `alpn` (most preferred first). `None` for [`TlsMode::Plaintext`].
pub(crate) fn setup(mode: TlsMode, alpn: &[&[u8]]) -> io::Result<Option<TlsSetup>> {
    if mode == TlsMode::Plaintext {
        return Ok(None);
    }
    let pki = Pki::generate().map_err(|e| io::Error::other(format!("test PKI: {e}")))?;
    let files = pki.write()?;
    let config = server_config(&pki, mode == TlsMode::MutualTls, alpn)
        .map_err(|e| io::Error::other(format!("TLS server config: {e}")))?;
    Ok(Some(TlsSetup {
        files,
        config: Arc::new(config),
    }))
}

/// A certificate with its key, as PEM and DER.
struct Issued {
    certificate: CertificateDer<'static>,
    certificate_pem: String,
    key: KeyPair,
}

struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    server: Issued,
    client: Issued,
    untrusted_ca: CertifiedIssuer<'static, KeyPair>,
    untrusted_client: Issued,
}

impl Pki {
    fn generate() -> Result<Pki, rcgen::Error> {
        let ca = authority("observe-testkit CA")?;
        let untrusted_ca = authority("observe-testkit untrusted CA")?;
        Ok(Pki {
            server: issue(
                &ca,
                "localhost",
                &["localhost", "127.0.0.1"],
                ExtendedKeyUsagePurpose::ServerAuth,
            )?,
            client: issue(
                &ca,
                "observe-testkit client",
                &[],
                ExtendedKeyUsagePurpose::ClientAuth,
            )?,
            untrusted_client: issue(
                &untrusted_ca,
                "observe-testkit untrusted client",
                &[],
                ExtendedKeyUsagePurpose::ClientAuth,
            )?,
            ca,
            untrusted_ca,
        })
    }

    fn write(&self) -> io::Result<TlsFiles> {
        let dir = tempfile::Builder::new()
            .prefix("observe-testkit-tls-")
            .tempdir()?;
        let put = |name: &str, pem: &str| -> io::Result<PathBuf> {
            let path = dir.path().join(name);
            fs::write(&path, pem)?;
            Ok(path)
        };
        Ok(TlsFiles {
            ca_certificate: put("ca.pem", &self.ca.pem())?,
            server_certificate: put("server.pem", &self.server.certificate_pem)?,
            server_key: put("server-key.pem", &self.server.key.serialize_pem())?,
            client_certificate: put("client.pem", &self.client.certificate_pem)?,
            client_key: put("client-key.pem", &self.client.key.serialize_pem())?,
            untrusted_ca_certificate: put("untrusted-ca.pem", &self.untrusted_ca.pem())?,
            untrusted_client_certificate: put(
                "untrusted-client.pem",
                &self.untrusted_client.certificate_pem,
            )?,
            untrusted_client_key: put(
                "untrusted-client-key.pem",
                &self.untrusted_client.key.serialize_pem(),
            )?,
            dir,
        })
    }
}

fn authority(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

fn issue(
    ca: &CertifiedIssuer<'static, KeyPair>,
    common_name: &str,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> Result<Issued, rcgen::Error> {
    // `new` makes an IP-address SAN of "127.0.0.1" and DNS SANs of the rest.
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate()?;
    let certificate = params.signed_by(&key, ca)?;
    Ok(Issued {
        certificate_pem: certificate.pem(),
        certificate: certificate.der().clone(),
        key,
    })
}

fn server_config(pki: &Pki, mutual: bool, alpn: &[&[u8]]) -> Result<ServerConfig, rustls::Error> {
    // An explicit provider: rustls' process default would panic if another crate in the
    // test binary enabled a second provider.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if mutual {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca.der().clone())?;
        // Built this way, the verifier rejects a client that presents no certificate.
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        versions.with_client_cert_verifier(verifier)
    } else {
        versions.with_no_client_auth()
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.key.serialize_der()));
    let mut config = builder.with_single_cert(vec![pki.server.certificate.clone()], key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}
