//! HTTP server spans for tower and axum (feature `http`): [`ObserveLayer`], and
//! [`inject_trace_context`] for outgoing requests.
//!
//! Per request, [`ObserveLayer`] creates one INFO span `http.server.request`, exported to
//! OpenTelemetry as a server span named `{method} {route}` (`otel.name`), with the stable
//! HTTP semantic-convention attributes:
//!
//! | field | when |
//! | --- | --- |
//! | `http.request.method` | always; unknown methods as `_OTHER` (+ `http.request.method_original`) |
//! | `http.route` | when axum matched a route (`MatchedPath`) |
//! | `url.path`, `url.query`, `url.scheme` | always; `url.query` when there is one, with known credentials `REDACTED` |
//! | `server.address`, `server.port` | from the URI authority or `Host` |
//! | `client.address` | from `ConnectInfo<SocketAddr>`, or `x-forwarded-for` when trusted |
//! | `network.protocol.version`, `user_agent.original` | when known |
//! | `request_id` | always: the caller's `x-request-id` when sane, else a new UUIDv7 |
//! | `http.response.status_code`, `http.response.body.size` | when the response is ready |
//! | `error.type`, `otel.status_code=ERROR`, `observe.result=error` | on a 5xx, a service error or a panic (not on 4xx) |
//! | `observe.result=cancelled` | when the response future is dropped unfinished |
//!
//! No other header is read: credentials in `authorization`, `cookie`, `set-cookie` or
//! `proxy-authorization` never reach a log line, a span or a metric.
//!
//! An incoming W3C `traceparent` is continued: the span is the remote span's child, in the
//! OpenTelemetry export and in the log lines' `trace_id` (with OpenTelemetry off too). A
//! missing or malformed one starts a new trace.
//!
//! Each request also observes the histogram [`DURATION_METRIC`]
//! (`http_server_request_duration_seconds{http_request_method, http_route,
//! http_response_status_code}`) through the `metrics` facade, i.e. into
//! [`Metrics`](crate::metrics::Metrics) once `init` installed it. The span itself names no
//! metric, so it adds no `function_calls` series.
//!
//! ```
//! use axum::{Router, routing::get};
//! use observe_runtime::http::ObserveLayer;
//!
//! let app: Router = Router::new()
//!     .route("/songs/{id}", get(|| async { "a song" }))
//!     .layer(ObserveLayer::new());
//! # drop(app);
//! ```

mod duration;
mod future;
mod layer;
mod propagation;
mod request;
mod request_id;
mod service;
mod span;

pub use duration::DURATION_METRIC;
pub use future::ResponseFuture;
pub use layer::{ObserveLayer, REQUEST_ID_HEADER};
pub use propagation::inject_trace_context;
pub use request_id::{MAX_REQUEST_ID_LEN, RequestId};
pub use service::ObserveService;
pub use span::SPAN_NAME;
