//! A real OTLP trace receiver for tests: gRPC ([`Receiver::start_grpc`]) or HTTP/protobuf
//! ([`Receiver::start_http`]) on `127.0.0.1`, decoding with `opentelemetry-proto`.
//!
//! The receiver runs on its own thread with its own tokio runtime, so it works from plain
//! `#[test]` functions and from any runtime flavour. Every export request is stored with its
//! request headers (gRPC metadata); [`Receiver::spans`] flattens them into [`ReceivedSpan`]s.
//! Its thread has a no-op tracing dispatcher, so the receiver's own h2/hyper/tonic telemetry
//! never reaches a global subscriber under test.
//! Dropping the receiver stops it.
//!
//! ```
//! use observe_testkit::otlp::Receiver;
//!
//! let receiver = Receiver::start_http();
//! assert!(receiver.endpoint().starts_with("http://127.0.0.1:"));
//! assert!(receiver.spans().is_empty());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode as OtlpStatus};
use prost::Message;
use tokio::sync::oneshot;

/// Which OTLP transport a [`Receiver`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// OTLP/gRPC (`opentelemetry.proto.collector.trace.v1.TraceService/Export`).
    Grpc,
    /// OTLP/HTTP with protobuf bodies on `POST /v1/traces`.
    HttpProtobuf,
}

/// One export request as the receiver got it.
#[derive(Clone, Debug)]
pub struct ReceivedRequest {
    /// Request headers (gRPC metadata for gRPC), names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The decoded request.
    pub request: ExportTraceServiceRequest,
}

/// A span flattened out of an export request, with everything as plain strings.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedSpan {
    /// The resource attributes of the batch the span came in (values rendered as strings).
    pub resource: BTreeMap<String, String>,
    /// The instrumentation scope name.
    pub scope: String,
    /// The span name.
    pub name: String,
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// 16 lowercase hex digits, or empty for a root span.
    pub parent_span_id: String,
    /// `"internal"`, `"server"`, `"client"`, `"producer"`, `"consumer"` or `"unspecified"`.
    pub kind: &'static str,
    /// `"unset"`, `"ok"` or `"error"`.
    pub status: &'static str,
    /// The status message (empty when none).
    pub status_message: String,
    /// Span attributes rendered as strings (strings as is, others in their display form).
    pub attributes: BTreeMap<String, String>,
    /// Names of the span's events, in order.
    pub events: Vec<String>,
    /// Links as `(trace_id, span_id)` hex pairs.
    pub links: Vec<(String, String)>,
}

#[derive(Default)]
struct Store {
    requests: Mutex<Vec<ReceivedRequest>>,
    changed: Condvar,
}

impl Store {
    fn push(&self, request: ReceivedRequest) {
        self.requests.lock().unwrap().push(request);
        self.changed.notify_all();
    }
}

/// A running OTLP trace receiver on `127.0.0.1`. See the [module docs](self).
pub struct Receiver {
    transport: Transport,
    addr: SocketAddr,
    store: Arc<Store>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("transport", &self.transport)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

struct GrpcService(Arc<Store>);

#[tonic::async_trait]
impl TraceService for GrpcService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = header_pairs(request.metadata().as_ref());
        self.0.push(ReceivedRequest {
            headers,
            request: request.into_inner(),
        });
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

async fn http_export(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type != "application/x-protobuf" {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected content-type application/x-protobuf",
        )
            .into_response();
    }
    let request = match ExportTraceServiceRequest::decode(body) {
        Ok(request) => request,
        Err(error) => {
            return (StatusCode::BAD_REQUEST, format!("bad protobuf: {error}")).into_response();
        }
    };
    store.push(ReceivedRequest {
        headers: header_pairs(&headers),
        request,
    });
    let response = ExportTraceServiceResponse {
        partial_success: None,
    };
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        response.encode_to_vec(),
    )
        .into_response()
}

impl Receiver {
    /// Starts an OTLP/gRPC receiver on `127.0.0.1:0`.
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

    /// Starts an OTLP/HTTP (protobuf) receiver on `127.0.0.1:0`, serving `POST /v1/traces`.
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

    /// Starts a receiver for `transport` on `127.0.0.1:0`.
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
        Self::start_on(transport, SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind 127.0.0.1:0")
    }

    /// Starts a receiver for `transport` on a chosen address, e.g. one an application was
    /// already told to export to before any collector listened there.
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
    pub fn start_on(transport: Transport, addr: SocketAddr) -> std::io::Result<Receiver> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let store = Arc::new(Store::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let server_store = store.clone();
        let thread = std::thread::Builder::new()
            .name(format!("otlp-receiver-{}", addr.port()))
            .spawn(move || {
                // The receiver's own h2/hyper/tonic telemetry must not reach the application's
                // (global) subscriber under test.
                let _quiet = tracing::dispatcher::set_default(&tracing::Dispatch::none());
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("receiver runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    match transport {
                        Transport::Grpc => {
                            let server = tonic::transport::Server::builder()
                                .add_service(TraceServiceServer::new(GrpcService(server_store)))
                                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                                    listener,
                                ));
                            tokio::select! {
                                _ = server => {}
                                _ = stopped => {}
                            }
                        }
                        Transport::HttpProtobuf => {
                            let app = axum::Router::new()
                                .route("/v1/traces", axum::routing::post(http_export))
                                .with_state(server_store);
                            let server = axum::serve(listener, app);
                            tokio::select! {
                                _ = server => {}
                                _ = stopped => {}
                            }
                        }
                    }
                });
                // Dropping the runtime drops any connection task still open.
            })
            .expect("spawn receiver thread");
        Ok(Receiver {
            transport,
            addr,
            store,
            stop: Some(stop),
            thread: Some(thread),
        })
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

    /// The bound socket address.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert_ne!(r.addr().port(), 0);
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base endpoint, e.g. `http://127.0.0.1:43117` (no path): what
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` would hold.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert_eq!(r.endpoint(), format!("http://{}", r.addr()));
    /// ```
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full traces URL for HTTP, `{endpoint}/v1/traces`: what
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` would hold.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.traces_url().ends_with("/v1/traces"));
    /// ```
    pub fn traces_url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// Every export request received so far, in arrival order.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_grpc();
    /// assert!(r.requests().is_empty());
    /// ```
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.store.requests.lock().unwrap().clone()
    }

    /// The headers (gRPC metadata) of every request received so far, one list per request.
    ///
    /// ```
    /// let r = observe_testkit::otlp::Receiver::start_http();
    /// assert!(r.headers().is_empty());
    /// ```
    pub fn headers(&self) -> Vec<Vec<(String, String)>> {
        self.store
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.headers.clone())
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
        let requests = self.store.requests.lock().unwrap();
        requests.iter().flat_map(|r| flatten(&r.request)).collect()
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
        let deadline = Instant::now() + timeout;
        let mut requests = self.store.requests.lock().unwrap();
        loop {
            let count: usize = requests.iter().map(|r| span_count(&r.request)).sum();
            let now = Instant::now();
            if count >= n || now >= deadline {
                break;
            }
            requests = self
                .store
                .changed
                .wait_timeout(requests, deadline - now)
                .unwrap()
                .0;
        }
        requests.iter().flat_map(|r| flatten(&r.request)).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Renders an OTLP value as a string: strings as is, scalars in display form, arrays and
/// maps in a bracketed debug-like form.
pub fn any_value_to_string(value: &AnyValue) -> String {
    match &value.value {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => hex(b),
        Some(any_value::Value::ArrayValue(a)) => format!(
            "[{}]",
            a.values
                .iter()
                .map(any_value_to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(any_value::Value::KvlistValue(kv)) => format!(
            "{{{}}}",
            kv.values
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv_value(kv)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        #[allow(unreachable_patterns)]
        Some(other) => format!("{other:?}"),
    }
}

fn kv_value(kv: &KeyValue) -> String {
    kv.value
        .as_ref()
        .map(any_value_to_string)
        .unwrap_or_default()
}

fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), kv_value(kv)))
        .collect()
}

fn kind_name(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Internal) => "internal",
        Ok(SpanKind::Server) => "server",
        Ok(SpanKind::Client) => "client",
        Ok(SpanKind::Producer) => "producer",
        Ok(SpanKind::Consumer) => "consumer",
        _ => "unspecified",
    }
}

fn status_name(code: i32) -> &'static str {
    match OtlpStatus::try_from(code) {
        Ok(OtlpStatus::Ok) => "ok",
        Ok(OtlpStatus::Error) => "error",
        _ => "unset",
    }
}

/// Flattens one export request into [`ReceivedSpan`]s.
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// assert!(observe_testkit::otlp::flatten(&ExportTraceServiceRequest::default()).is_empty());
/// ```
pub fn flatten(request: &ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| attrs(&r.attributes))
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            let scope = ss
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for span in &ss.spans {
                let (status, status_message) = span
                    .status
                    .as_ref()
                    .map(|s| (status_name(s.code), s.message.clone()))
                    .unwrap_or(("unset", String::new()));
                out.push(ReceivedSpan {
                    resource: resource.clone(),
                    scope: scope.clone(),
                    name: span.name.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: kind_name(span.kind),
                    status,
                    status_message,
                    attributes: attrs(&span.attributes),
                    events: span.events.iter().map(|e| e.name.clone()).collect(),
                    links: span
                        .links
                        .iter()
                        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
                        .collect(),
                });
            }
        }
    }
    out
}
