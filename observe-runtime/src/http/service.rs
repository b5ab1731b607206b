//! [`ObserveService`]: opens the request span and hands the request on.

use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use http_body::Body;
use tower::Service;

use super::future::{Finish, ResponseFuture};
use super::layer::ObserveLayer;
use super::propagation;
use super::request::RequestInfo;
use super::request_id::RequestId;
use super::span::request_span;

/// The service [`ObserveLayer`] wraps around another: one server span per request, run
/// around the wrapped service's call and future.
///
/// ```
/// use observe_runtime::http::{ObserveLayer, ObserveService};
/// use tower::Layer;
///
/// let inner = tower::service_fn(|_: http::Request<()>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let service: ObserveService<_> = ObserveLayer::new().layer(inner);
/// # drop(service);
/// ```
#[derive(Clone, Debug)]
pub struct ObserveService<S> {
    pub(crate) inner: S,
    pub(crate) layer: ObserveLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ObserveService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let started = Instant::now();
        let header = &self.layer.request_id_header;
        let request_id = RequestId::from_header(request.headers().get(header));

        let info = RequestInfo::read(&request, self.layer.trust_forwarded_for);
        // The record (its ids) is made while the span is created, so the caller's context
        // is handed over for exactly that.
        let caller = propagation::extract(request.headers());
        let span = match &caller {
            Some(caller) => caller.in_scope(|| request_span(&info, &request_id)),
            None => request_span(&info, &request_id),
        };
        // When every filter leaves the request span out (`RUST_LOG=warn`, no export), the
        // handler's spans still continue the caller's trace: they are polled with the
        // caller's context handed over, as the children of the caller's span.
        let caller = caller.filter(|_| span.is_disabled());
        let method = info.method;
        let route = info.route.unwrap_or_default().into();
        drop(info);

        // Handlers see the id that is logged, whether it came with the request or not.
        request
            .headers_mut()
            .insert(header.clone(), request_id.header_value().clone());
        request.extensions_mut().insert(request_id.clone());

        let inner = match &caller {
            Some(caller) => caller.in_scope(|| self.inner.call(request)),
            None => span.in_scope(|| self.inner.call(request)),
        };
        ResponseFuture::new(
            inner,
            caller,
            Finish {
                span,
                started,
                method,
                route,
                request_id,
                request_id_header: header.clone(),
                durations: self.layer.durations.clone(),
                done: false,
            },
        )
    }
}
