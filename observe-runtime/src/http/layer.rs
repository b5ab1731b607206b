//! The tower layer and its service: one server span per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{CONTENT_LENGTH, HeaderName};
use http::{Request, Response};
use http_body::Body;
use tower::{Layer, Service};
use tracing::Instrument;

use super::duration::RequestDurations;
use super::propagation::{extract, remote_ids};
use super::request_id::{REQUEST_ID_HEADER, request_id};
use super::span::{method_label, route, server_span};

/// A tower layer that gives every request a server span, continues the caller's W3C trace,
/// keeps a request id and records `http_server_request_duration_seconds`.
///
/// The span carries the stable OpenTelemetry HTTP attributes (`http.request.method`,
/// `http.route`, `url.path`, `url.query`, `url.scheme`, `server.address`, `server.port`,
/// `client.address`, `network.protocol.version`, `user_agent.original`,
/// `http.response.status_code`, `http.response.body.size`) plus `request_id` and
/// `otel.kind = "server"`. A 5xx response fails the span (`otel.status_code = "ERROR"`,
/// `result = "error"`); a 4xx is the client's error and does not. No other request or
/// response header is recorded: `authorization`, `cookie`, `set-cookie` and
/// `proxy-authorization` never reach a log line, a span or a metric.
///
/// ```
/// use axum::{Router, routing::get};
/// use observe_runtime::http::ObserveLayer;
///
/// let app: Router = Router::new()
///     .route("/songs/{id}", get(|| async { "a song" }))
///     .layer(ObserveLayer::new());
/// # drop(app);
/// ```
#[derive(Clone, Default)]
pub struct ObserveLayer {
    trust_forwarded_for: bool,
    durations: Arc<RequestDurations>,
}

impl std::fmt::Debug for ObserveLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserveLayer")
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

impl ObserveLayer {
    /// The layer with `client.address` taken from the socket only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `client.address` from the first `x-forwarded-for` entry; only for services
    /// behind a proxy that sets it, since any client can send the header.
    ///
    /// ```
    /// use observe_runtime::http::ObserveLayer;
    ///
    /// let layer = ObserveLayer::new().trust_forwarded_for(true);
    /// # drop(layer);
    /// ```
    pub fn trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = ObserveService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObserveService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ObserveLayer`] wraps around the application.
#[derive(Clone, Debug)]
pub struct ObserveService<S> {
    inner: S,
    layer: ObserveLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ObserveService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    ResBody: Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let started = Instant::now();
        let id = request_id(request.headers());
        let remote = extract(request.headers());
        let span = {
            // Attached while the span is created, the caller's context becomes its
            // OpenTelemetry parent; the context store takes the same ids for the logs.
            let _remote = remote.clone().attach();
            crate::context::with_remote_parent(remote_ids(&remote), || {
                server_span(
                    &request,
                    id.to_str().unwrap_or_default(),
                    self.layer.trust_forwarded_for,
                )
            })
        };
        let method = method_label(request.method());
        let route = route(&request).map(str::to_owned);
        request
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), id.clone());

        let response = span.in_scope(|| self.inner.call(request));
        let durations = self.layer.durations.clone();
        let outcome = Cancelled(Some(span.clone()));
        Box::pin(
            async move {
                let result = response.await;
                outcome.finish();
                let span = tracing::Span::current();
                match &result {
                    Ok(response) => {
                        let status = response.status();
                        span.record("http.response.status_code", status.as_u16());
                        if let Some(size) = body_size(response) {
                            span.record("http.response.body.size", size);
                        }
                        if status.is_server_error() {
                            span.record("otel.status_code", "ERROR");
                            span.record("observe.result", "error");
                        }
                        // Unmatched requests share one route label rather than their raw path.
                        let route = route.as_deref().unwrap_or("");
                        durations.record(method, route, status.as_u16(), started.elapsed());
                    }
                    Err(_) => {
                        span.record("otel.status_code", "ERROR");
                        span.record("observe.result", "error");
                    }
                }
                result.map(|mut response| {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static(REQUEST_ID_HEADER), id);
                    response
                })
            }
            .instrument(span),
        )
    }
}

fn body_size<B: Body>(response: &Response<B>) -> Option<u64> {
    response.body().size_hint().exact().or_else(|| {
        response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
    })
}

/// Marks the span `cancelled` if the response future is dropped before it completes (the
/// client went away).
struct Cancelled(Option<tracing::Span>);

impl Cancelled {
    fn finish(mut self) {
        self.0 = None;
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(span) = self.0.take() {
            span.record("observe.result", "cancelled");
        }
    }
}
