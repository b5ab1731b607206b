//! How a [`Receiver`] is set up: transport, TLS mode, address, and whether it keeps what it
//! receives.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use super::receiver::Receiver;
use super::server;
use super::store::Store;
use super::tls::{self, TlsMode};

/// Which OTLP transport a [`Receiver`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// OTLP/gRPC: `opentelemetry.proto.collector.{trace,metrics,logs}.v1.*Service/Export`.
    Grpc,
    /// OTLP/HTTP with protobuf bodies on `POST /v1/traces`, `/v1/metrics` and `/v1/logs`.
    HttpProtobuf,
}

impl Transport {
    /// ALPN protocols offered in TLS mode: gRPC is HTTP/2 only; OTLP/HTTP may be either
    /// version, as at a collector.
    fn alpn(self) -> &'static [&'static [u8]] {
        match self {
            Transport::Grpc => &[b"h2"],
            Transport::HttpProtobuf => &[b"h2", b"http/1.1"],
        }
    }
}

/// Sets up a [`Receiver`]; made by [`Receiver::builder`].
///
/// ```
/// use observe_testkit::otlp::{Receiver, TlsMode, Transport};
///
/// let receiver = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).discard().start()?;
/// assert!(receiver.endpoint().starts_with("https://127.0.0.1:"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `start`"]
pub struct ReceiverBuilder {
    transport: Transport,
    tls: TlsMode,
    addr: SocketAddr,
    keep: bool,
}

impl ReceiverBuilder {
    pub(crate) fn new(transport: Transport) -> ReceiverBuilder {
        ReceiverBuilder {
            transport,
            tls: TlsMode::Plaintext,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            keep: true,
        }
    }

    /// Serves with TLS (default: [`TlsMode::Plaintext`]).
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::HttpProtobuf).tls(TlsMode::MutualTls).start().unwrap();
    /// assert_eq!(r.tls_mode(), TlsMode::MutualTls);
    /// ```
    pub fn tls(mut self, mode: TlsMode) -> ReceiverBuilder {
        self.tls = mode;
        self
    }

    /// Binds `addr` instead of `127.0.0.1:0`, e.g. an address an application was told to
    /// export to before any collector listened there.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, Transport};
    /// let taken = Receiver::start_grpc();
    /// assert!(Receiver::builder(Transport::Grpc).addr(taken.addr()).start().is_err());
    /// ```
    pub fn addr(mut self, addr: SocketAddr) -> ReceiverBuilder {
        self.addr = addr;
        self
    }

    /// Decodes and counts every request, then drops it: memory stays flat however long a
    /// benchmark runs. [`Receiver::counts`] still works; the request and item views stay
    /// empty.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, Transport};
    /// let r = Receiver::builder(Transport::HttpProtobuf).discard().start().unwrap();
    /// assert!(r.is_discarding());
    /// ```
    pub fn discard(mut self) -> ReceiverBuilder {
        self.keep = false;
        self
    }

    /// Binds the address, makes the TLS files (in TLS modes) and starts serving.
    ///
    /// # Errors
    /// When the address cannot be bound (taken, or not local), or the TLS files cannot be
    /// made or written.
    ///
    /// # Panics
    /// If the receiver's thread cannot start its runtime.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, Transport};
    /// let r = Receiver::builder(Transport::Grpc).start().unwrap();
    /// assert!(r.addr().ip().is_loopback());
    /// ```
    pub fn start(self) -> io::Result<Receiver> {
        let listener = TcpListener::bind(self.addr)?;
        let addr = listener.local_addr()?;
        let tls = tls::setup(self.tls, self.transport.alpn())?;
        let (files, config) = match tls {
            Some(setup) => (Some(setup.files), Some(setup.config)),
            None => (None, None),
        };
        let store = Arc::new(Store::new(self.keep));
        let running = server::spawn(listener, self.transport, config, store.clone())?;
        Ok(Receiver::new(
            self.transport,
            self.tls,
            addr,
            store,
            files,
            running,
        ))
    }
}
