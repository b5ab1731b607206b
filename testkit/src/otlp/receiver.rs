//! [`Receiver`]: the handle a test holds. Starts the server, reads back what arrived, and
//! stops the server when dropped.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::builder::{ReceiverBuilder, Transport};
use super::http::{LOGS_PATH, METRICS_PATH, TRACES_PATH};
use super::logs::{ReceivedLogRecord, flatten_logs};
use super::metrics::{ReceivedDataPoint, flatten_metrics};
use super::server::Running;
use super::spans::{ReceivedSpan, flatten};
use super::store::{
    Counts, ReceivedLogsRequest, ReceivedMetricsRequest, ReceivedRequest, SignalKind, Store,
};
use super::tls::{TlsFiles, TlsMode};

/// A running OTLP receiver on `127.0.0.1`. See the [module docs](super).
pub struct Receiver {
    transport: Transport,
    tls_mode: TlsMode,
    addr: SocketAddr,
    store: Arc<Store>,
    running: Running,
    tls_files: Option<TlsFiles>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("transport", &self.transport)
            .field("tls_mode", &self.tls_mode)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    pub(crate) fn new(
        transport: Transport,
        tls_mode: TlsMode,
        addr: SocketAddr,
        store: Arc<Store>,
        tls_files: Option<TlsFiles>,
        running: Running,
    ) -> Receiver {
        Receiver {
            transport,
            tls_mode,
            addr,
            store,
            running,
            tls_files,
        }
    }

    /// Sets up a receiver for `transport`: TLS mode, address, discard mode.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::MutualTls).start().unwrap();
    /// assert!(r.tls_files().is_some());
    /// ```
    pub fn builder(transport: Transport) -> ReceiverBuilder {
        ReceiverBuilder::new(transport)
    }

    /// Starts a plaintext OTLP/gRPC receiver on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If the port cannot be bound or the runtime thread cannot start.
    ///
    /// ```
    /// let receiver = observe_testkit::otlp::Receiver::start_grpc();
    /// assert_eq!(receiver.transport(), observe_testkit::otlp::Transport::Grpc);
    /// ```
    pub fn start_grpc() -> Receiver {
        Self::start(Transport::Grpc)
    }

    /// Starts a plaintext OTLP/HTTP (protobuf) receiver on `127.0.0.1:0`, serving
    /// `POST /v1/traces`, `/v1/metrics` and `/v1/logs`.
    ///
    /// # Panics
    /// If the port cannot be bound or the runtime thread cannot start.
    ///
    /// ```
    /// let receiver = observe_testkit::otlp::Receiver::start_http();
    /// assert_eq!(receiver.traces_url(), format!("{}/v1/traces", receiver.endpoint()));
    /// ```
    pub fn start_http() -> Receiver {
        Self::start(Transport::HttpProtobuf)
    }

    /// Starts a plaintext receiver for `transport` on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If the port cannot be bound or the runtime thread cannot start.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, Transport};
    /// let receiver = Receiver::start(Transport::Grpc);
    /// assert!(receiver.addr().ip().is_loopback());
    /// ```
    pub fn start(transport: Transport) -> Receiver {
        Self::builder(transport)
            .start()
            .expect("start an OTLP receiver on 127.0.0.1:0")
    }

    /// Starts a plaintext receiver for `transport` on a chosen address, e.g. one an
    /// application was already told to export to before any collector listened there.
    ///
    /// # Errors
    /// When `addr` cannot be bound (taken, or not local).
    ///
    /// # Panics
    /// If the runtime thread cannot start.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, Transport};
    /// let first = Receiver::start(Transport::HttpProtobuf);
    /// let addr = first.addr();
    /// assert!(Receiver::start_on(Transport::HttpProtobuf, addr).is_err(), "taken");
    /// drop(first);
    /// let again = Receiver::start_on(Transport::HttpProtobuf, addr).unwrap();
    /// assert_eq!(again.addr(), addr);
    /// ```
    pub fn start_on(transport: Transport, addr: SocketAddr) -> io::Result<Receiver> {
        Self::builder(transport).addr(addr).start()
    }

    /// The transport this receiver speaks.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_eq!(r.transport(), observe_testkit::otlp::Transport::HttpProtobuf);
    /// ```
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// How this receiver secures its connections.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_eq!(r.tls_mode(), observe_testkit::otlp::TlsMode::Plaintext);
    /// ```
    pub fn tls_mode(&self) -> TlsMode {
        self.tls_mode
    }

    /// Whether this receiver drops what it receives (see [`ReceiverBuilder::discard`]).
    ///
    /// ```
    /// assert!(!observe_testkit::otlp::Receiver::start_http().is_discarding());
    /// ```
    pub fn is_discarding(&self) -> bool {
        !self.store.keeps()
    }

    /// The bound socket address.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_ne!(r.addr().port(), 0);
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM files of a TLS receiver's test PKI; `None` in plaintext mode. They are
    /// removed when the receiver is dropped.
    ///
    /// ```
    /// assert!(observe_testkit::otlp::Receiver::start_grpc().tls_files().is_none());
    /// ```
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls_files.as_ref()
    }

    fn scheme(&self) -> &'static str {
        match self.tls_mode {
            TlsMode::Plaintext => "http",
            TlsMode::Tls | TlsMode::MutualTls => "https",
        }
    }

    /// The base endpoint, e.g. `http://127.0.0.1:43117` or, with TLS,
    /// `https://127.0.0.1:43117` (no path): what `OTEL_EXPORTER_OTLP_ENDPOINT` would hold.
    /// The server certificate names `127.0.0.1` as an IP address, so it verifies as is.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert_eq!(r.endpoint(), format!("http://{}", r.addr()));
    /// ```
    pub fn endpoint(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    /// The base endpoint by host name, e.g. `https://localhost:43117`. The receiver listens
    /// on `127.0.0.1` only, so a client must resolve `localhost` to IPv4.
    ///
    /// ```
    /// use observe_testkit::otlp::{Receiver, TlsMode, Transport};
    /// let r = Receiver::builder(Transport::Grpc).tls(TlsMode::Tls).start().unwrap();
    /// assert_eq!(r.localhost_endpoint(), format!("https://localhost:{}", r.addr().port()));
    /// ```
    pub fn localhost_endpoint(&self) -> String {
        format!("{}://localhost:{}", self.scheme(), self.addr.port())
    }

    /// The full traces URL for HTTP, `{endpoint}/v1/traces`: what
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` would hold.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.traces_url().ends_with("/v1/traces"));
    /// ```
    pub fn traces_url(&self) -> String {
        format!("{}{TRACES_PATH}", self.endpoint())
    }

    /// The full metrics URL for HTTP, `{endpoint}/v1/metrics`.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_eq!(r.metrics_url(), format!("http://{}/v1/metrics", r.addr()));
    /// ```
    pub fn metrics_url(&self) -> String {
        format!("{}{METRICS_PATH}", self.endpoint())
    }

    /// The full logs URL for HTTP, `{endpoint}/v1/logs`.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_eq!(r.logs_url(), format!("http://{}/v1/logs", r.addr()));
    /// ```
    pub fn logs_url(&self) -> String {
        format!("{}{LOGS_PATH}", self.endpoint())
    }

    /// What arrived so far, counted (in discard mode too).
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_eq!(r.counts().spans, 0);
    /// ```
    pub fn counts(&self) -> Counts {
        self.store.lock().counts
    }

    /// Why TLS handshakes failed, e.g. a client that presented no certificate to a
    /// mutual-TLS receiver (the first 64).
    ///
    /// ```
    /// assert!(observe_testkit::otlp::Receiver::start_http().tls_errors().is_empty());
    /// ```
    pub fn tls_errors(&self) -> Vec<String> {
        self.store.lock().tls_errors.clone()
    }

    /// Every trace export request received so far, in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.requests().is_empty());
    /// ```
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.store.lock().traces.clone()
    }

    /// Every metrics export request received so far, in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.metrics_requests().is_empty());
    /// ```
    pub fn metrics_requests(&self) -> Vec<ReceivedMetricsRequest> {
        self.store.lock().metrics.clone()
    }

    /// Every logs export request received so far, in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.logs_requests().is_empty());
    /// ```
    pub fn logs_requests(&self) -> Vec<ReceivedLogsRequest> {
        self.store.lock().logs.clone()
    }

    /// The headers (gRPC metadata) of every request received so far, whatever its signal,
    /// one list per request in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.headers().is_empty());
    /// ```
    pub fn headers(&self) -> Vec<Vec<(String, String)>> {
        let state = self.store.lock();
        state
            .arrivals
            .iter()
            .map(|&(kind, i)| match kind {
                SignalKind::Traces => state.traces[i].headers.clone(),
                SignalKind::Metrics => state.metrics[i].headers.clone(),
                SignalKind::Logs => state.logs[i].headers.clone(),
            })
            .collect()
    }

    /// Every value of header `name` (case-insensitive) across all requests received so far.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.header_values("authorization").is_empty());
    /// ```
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect()
    }

    /// All spans received so far, flattened, in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.spans().is_empty());
    /// ```
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let state = self.store.lock();
        state
            .traces
            .iter()
            .flat_map(|r| flatten(&r.request))
            .collect()
    }

    /// All metric data points received so far, flattened, in arrival order. With
    /// cumulative temporality each export repeats every point: the last one of a name and
    /// attribute set is the current value.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.data_points().is_empty());
    /// ```
    pub fn data_points(&self) -> Vec<ReceivedDataPoint> {
        let state = self.store.lock();
        state
            .metrics
            .iter()
            .flat_map(|r| flatten_metrics(&r.request))
            .collect()
    }

    /// All log records received so far, flattened, in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.log_records().is_empty());
    /// ```
    pub fn log_records(&self) -> Vec<ReceivedLogRecord> {
        let state = self.store.lock();
        state
            .logs
            .iter()
            .flat_map(|r| flatten_logs(&r.request))
            .collect()
    }

    /// Waits until at least `n` spans have arrived or `timeout` passes, then returns all
    /// spans received so far (possibly fewer than `n`: the caller asserts).
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.wait_for_spans(1, Duration::from_millis(10)).is_empty());
    /// ```
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let state = self
            .store
            .wait(Instant::now() + timeout, |s| s.counts.spans >= n);
        state
            .traces
            .iter()
            .flat_map(|r| flatten(&r.request))
            .collect()
    }

    /// Waits until at least `n` metric data points have arrived or `timeout` passes, then
    /// returns all points received so far (possibly fewer than `n`: the caller asserts).
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.wait_for_data_points(1, Duration::from_millis(10)).is_empty());
    /// ```
    pub fn wait_for_data_points(&self, n: usize, timeout: Duration) -> Vec<ReceivedDataPoint> {
        let state = self
            .store
            .wait(Instant::now() + timeout, |s| s.counts.data_points >= n);
        state
            .metrics
            .iter()
            .flat_map(|r| flatten_metrics(&r.request))
            .collect()
    }

    /// Waits until a data point of metric `name` has arrived or `timeout` passes, then
    /// returns every point of that name received so far (empty on timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.wait_for_metric("calls_total", Duration::from_millis(10)).is_empty());
    /// ```
    pub fn wait_for_metric(&self, name: &str, timeout: Duration) -> Vec<ReceivedDataPoint> {
        let mut found = Vec::new();
        self.wait_until(timeout, |r| {
            found = r.data_points();
            found.retain(|p| p.name == name);
            !found.is_empty()
        });
        found
    }

    /// Waits until at least `n` log records have arrived or `timeout` passes, then returns
    /// all records received so far (possibly fewer than `n`: the caller asserts).
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.wait_for_log_records(1, Duration::from_millis(10)).is_empty());
    /// ```
    pub fn wait_for_log_records(&self, n: usize, timeout: Duration) -> Vec<ReceivedLogRecord> {
        let state = self
            .store
            .wait(Instant::now() + timeout, |s| s.counts.log_records >= n);
        state
            .logs
            .iter()
            .flat_map(|r| flatten_logs(&r.request))
            .collect()
    }

    /// Waits until `done(self)` holds or `timeout` passes, checking again after every
    /// request (or failed handshake) the receiver sees; returns whether it held.
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.wait_until(Duration::from_secs(1), |r| r.counts().spans == 0));
    /// assert!(!r.wait_until(Duration::from_millis(10), |r| r.counts().log_records > 0));
    /// ```
    pub fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Receiver) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.store.lock().generation;
            if done(self) {
                return true;
            }
            // `done` ran without the lock (it reads the receiver); wait for a change after
            // the state it saw, so a request landing meanwhile is not missed.
            let state = self.store.wait(deadline, |s| s.generation != seen);
            if state.generation == seen {
                drop(state);
                return done(self);
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.running.stop();
    }
}
