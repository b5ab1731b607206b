//! HTTP server spans for tower/axum services, with W3C trace context (feature `http`).
//!
//! [`ObserveLayer`] gives every request a server span named `"{method} {route}"`, continues
//! an incoming `traceparent`, keeps a request id (`x-request-id`, echoed in the response)
//! and records `http_server_request_duration_seconds`. [`inject_trace_context`] writes the
//! current trace into an outgoing request.
//!
//! ```
//! use axum::{Router, routing::get};
//! use observe_runtime::http::ObserveLayer;
//!
//! let app: Router = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .layer(ObserveLayer::new());
//! # drop(app);
//! ```

mod duration;
mod layer;
mod propagation;
mod request_id;
mod span;

pub use duration::REQUEST_DURATION;
pub use layer::{ObserveLayer, ObserveService};
pub use propagation::inject_trace_context;
pub use request_id::REQUEST_ID_HEADER;
pub use span::SPAN_NAME;
