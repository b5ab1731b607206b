//! A service that forwards calls, carrying W3C Trace Context: the shape of service the
//! [W3C Trace Context test suite](https://github.com/w3c/trace-context/tree/main/test) drives.
//!
//! ```sh
//! cargo run --example trace_context -- --addr 127.0.0.1:5000
//! cargo run --example trace_context -- --help
//! ```
//!
//! `POST /test` takes a JSON list of `{"url": ..., "arguments": [...]}` and, for each
//! element in order, POSTs `arguments` as JSON to `url`. It answers with the outcome of each
//! call (200 when all of them got an answer, 502 otherwise).
//!
//! # Propagation
//!
//! [`ObserveLayer`] reads the caller's `traceparent` and `tracestate` headers. When exactly
//! one valid `traceparent` came, the request's server span continues the caller's trace as
//! the child of the caller's span; otherwise (missing, malformed, repeated) the request
//! starts a new trace. `tracestate` fields are combined in order and passed on unchanged, or
//! dropped as a whole when one member is invalid or there are more than 32.
//!
//! Each outgoing call runs in its own `#[observe(otel_kind = "client")]` span, and
//! [`inject_trace_context`] writes that span's context into the request headers: the callee
//! sees the same trace id, this call's span as its parent, and the caller's `tracestate`.
//! observe numbers spans itself, so this holds with trace export off too: the ids in the
//! headers are the ones on the log lines. Set `OTEL_EXPORTER_OTLP_ENDPOINT` to export the
//! spans as well, with the same ids.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use observe::observe;
use observe::runtime::http::{ObserveLayer, inject_trace_context};
use serde::{Deserialize, Serialize};

const USAGE: &str = "\
trace_context: forwards calls with W3C Trace Context (a service for its test suite)

usage: trace_context [--addr ADDR]

  --addr ADDR  listen on ADDR (default 127.0.0.1:5000)
  -h, --help   print this help

POST /test with a JSON list of {\"url\": ..., \"arguments\": [...]}: each `arguments` is
POSTed as JSON to its `url`, with this service's trace context. Log lines go to stdout;
set OTEL_EXPORTER_OTLP_ENDPOINT to export the traces.
";

const DEFAULT_ADDR: &str = "127.0.0.1:5000";
/// A callee that never answers must not hold its caller's request forever.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let addr = match parse_args(std::env::args().skip(1)) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprint!("trace_context: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trace_context: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The address to listen on, or `None` for `--help`.
fn parse_args(mut words: impl Iterator<Item = String>) -> Result<Option<SocketAddr>, String> {
    let mut addr = DEFAULT_ADDR.to_owned();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => {
                addr = words
                    .next()
                    .ok_or("--addr needs an address, e.g. 127.0.0.1:5000")?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    addr.parse()
        .map(Some)
        .map_err(|e| format!("--addr {addr:?}: {e}"))
}

fn run(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let guard = observe::runtime::init()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        eprintln!("trace_context listening on http://{addr}/test; Ctrl-C stops it");
        axum::serve(
            listener,
            app().into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(Box::from)
    });
    // The spans close with the runtime's tasks; the guard then flushes their log lines and
    // exports them.
    drop(runtime);
    drop(guard);
    served
}

/// The service: `POST /test`, every request in a server span that continues its caller's
/// trace.
pub(crate) fn app() -> Router {
    Router::new()
        .route("/test", post(forward_all))
        .with_state(Forwarder::new())
        .layer(ObserveLayer::new())
}

/// One call to make: POST `arguments` to `url`.
#[derive(Debug, Deserialize)]
struct Call {
    url: String,
    #[serde(default)]
    arguments: Vec<serde_json::Value>,
}

/// What became of a call: the callee's status, or why there is none.
#[derive(Debug, Serialize)]
struct Outcome {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn forward_all(
    State(forwarder): State<Forwarder>,
    Json(calls): Json<Vec<Call>>,
) -> (StatusCode, Json<Vec<Outcome>>) {
    let mut outcomes = Vec::with_capacity(calls.len());
    for call in calls {
        let result = forwarder.forward(&call.url, &call.arguments).await;
        outcomes.push(Outcome {
            url: call.url,
            status: result.as_ref().ok().copied(),
            error: result.err(),
        });
    }
    let status = if outcomes.iter().all(|o| o.error.is_none()) {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    (status, Json(outcomes))
}

#[derive(Clone)]
struct Forwarder {
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Forwarder {
    fn new() -> Self {
        Forwarder {
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// POSTs `arguments` to `url` in a client span of its own, so that each call has its own
    /// id: the callee's parent id.
    #[observe(otel_kind = "client", skip(self, url, arguments), fields(url.full = url), err)]
    async fn forward(&self, url: &str, arguments: &[serde_json::Value]) -> Result<u16, String> {
        let body = serde_json::to_vec(arguments).map_err(|e| e.to_string())?;
        let mut request = http::Request::post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::from(body))
            .map_err(|e| format!("invalid url {url:?}: {e}"))?;
        inject_trace_context(request.headers_mut());
        let call = async {
            let response = self.http.request(request).await.map_err(|e| describe(&e))?;
            let status = response.status();
            // Read the answer to its end, so that the connection can serve the next call.
            response
                .into_body()
                .collect()
                .await
                .map_err(|e| describe(&e))?;
            Ok(status.as_u16())
        };
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))?
    }
}

/// An error with its causes: hyper's own message ("client error (Connect)") names no cause.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}
