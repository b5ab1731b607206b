//! The response future: polls the wrapped service inside the request span, and records the
//! request's end once, whether it completes, fails or is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{HeaderName, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tracing::Span;

use super::duration::{Durations, Series};
use super::request_id::RequestId;
use super::span;
use crate::propagation::TraceContext;

pin_project! {
    /// The future of an [`ObserveService`](super::ObserveService) call: the wrapped service's
    /// future, run inside the request span.
    ///
    /// When it completes it records the status code and body size on the span, echoes the
    /// request id header and observes `http_server_request_duration_seconds`; dropped before
    /// completion (the client went away), it records `observe.result="cancelled"`, or fails
    /// the span if the drop comes from a panic in the wrapped future.
    ///
    /// ```
    /// use observe_runtime::http::{ObserveLayer, ResponseFuture};
    /// use tower::{Layer, Service, ServiceExt};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let inner = tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
    /// });
    /// let mut service = ObserveLayer::new().layer(inner);
    /// let future: ResponseFuture<_> = service.ready().await.unwrap().call(http::Request::new(()));
    /// let response = future.await.unwrap();
    /// assert!(response.headers().contains_key("x-request-id"));
    /// # });
    /// ```
    pub struct ResponseFuture<F> {
        // Declared first so that it is dropped first: spans the handler opened close before
        // the request span does.
        #[pin]
        inner: F,
        // The caller's context, when the request span is disabled: the future is polled
        // with it handed over instead.
        caller: Option<TraceContext>,
        finish: Option<Finish>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, caller: Option<TraceContext>, finish: Finish) -> Self {
        ResponseFuture {
            inner,
            caller,
            finish: Some(finish),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.caller {
            Some(caller) => ready!(caller.in_scope(|| this.inner.poll(cx))),
            None => {
                let _entered = this.finish.as_ref().map(|finish| finish.span.enter());
                ready!(this.inner.poll(cx))
            }
        };
        let mut result = result;
        if let Some(finish) = this.finish.take() {
            match &mut result {
                Ok(response) => finish.response(response),
                Err(_) => finish.error(),
            }
        }
        Poll::Ready(result)
    }
}

/// Everything needed to record the end of a request, owned by the future; its `Drop` is
/// what notices cancellation.
#[derive(Debug)]
pub(crate) struct Finish {
    pub(crate) span: Span,
    pub(crate) started: Instant,
    pub(crate) method: &'static str,
    /// Empty when no route matched.
    pub(crate) route: Box<str>,
    pub(crate) request_id: RequestId,
    pub(crate) request_id_header: HeaderName,
    pub(crate) durations: Arc<Durations>,
    /// Set once the end is recorded; a `Finish` dropped without it was cancelled.
    pub(crate) done: bool,
}

impl Finish {
    fn response<B: Body>(mut self, response: &mut Response<B>) {
        let status = response.status();
        let size = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse().ok())
            .or_else(|| response.body().size_hint().exact());
        span::record_response(&self.span, status, size);
        // Echoed whatever the handler set, so that the id the client sees is the one logged.
        response.headers_mut().insert(
            self.request_id_header.clone(),
            self.request_id.header_value().clone(),
        );
        self.observe(Some(status.as_u16()));
    }

    fn error(mut self) {
        span::record_error(&self.span);
        self.observe(None);
    }

    /// Records the duration; after it, dropping `self` closes the span with nothing more
    /// to add.
    fn observe(&mut self, status: Option<u16>) {
        self.done = true;
        let seconds = self.started.elapsed().as_secs_f64();
        self.durations.record(
            Series {
                method: self.method,
                route: &self.route,
                status,
            },
            seconds,
        );
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        if !self.done {
            // Unwinding from the wrapped future's poll is a failure, not a client going away.
            if std::thread::panicking() {
                span::record_panic(&self.span);
            } else {
                span::record_cancelled(&self.span);
            }
            // Still observed: a client that gave up after 30 s is exactly the latency a
            // dashboard must not lose. No status label, as no response was sent.
            self.observe(None);
        }
    }
}
