//! The server span: its fields at creation, and how a request's end is recorded on it.

use http::StatusCode;
use tracing::Span;
use tracing::field::Empty;

use super::request::RequestInfo;
use super::request_id::RequestId;
use crate::fields;

/// The tracing name of every server span. tracing needs a `'static` name, so the route
/// goes into `otel.name` (`GET /users/{id}`), which names the exported span.
///
/// ```
/// // e.g. to give request spans their own level in an `EnvFilter`-style directive:
/// let directive = format!("observe_runtime::http[{}]=info", observe_runtime::http::SPAN_NAME);
/// assert_eq!(directive, "observe_runtime::http[http.server.request]=info");
/// ```
pub const SPAN_NAME: &str = "http.server.request";

/// Creates the span for a request; every value known now is a field at creation, so that
/// the `new_span` log line and the OpenTelemetry span's sampler see them.
pub(crate) fn request_span(info: &RequestInfo<'_>, request_id: &RequestId) -> Span {
    let name = info.span_name();
    tracing::info_span!(
        target: "observe_runtime::http",
        SPAN_NAME,
        otel.name = &*name,
        otel.kind = "server",
        http.request.method = info.method,
        http.request.method_original = info.method_original,
        http.route = info.route,
        url.path = &*info.path,
        url.query = info.query.as_deref(),
        url.scheme = info.scheme,
        server.address = info.server_address,
        server.port = info.server_port,
        client.address = info.client_address.as_ref().map(display),
        network.protocol.version = info.protocol_version,
        user_agent.original = info.user_agent.as_deref(),
        request_id = request_id.as_str(),
        http.response.status_code = Empty,
        http.response.body.size = Empty,
        error.type = Empty,
        otel.status_code = Empty,
        observe.result = Empty,
    )
}

/// A response was produced. Only 5xx fails the span: for a server, a 4xx is the client's
/// mistake, not the server's (OpenTelemetry HTTP semantic conventions).
pub(crate) fn record_response(span: &Span, status: StatusCode, body_size: Option<u64>) {
    span.record("http.response.status_code", status.as_u16());
    if let Some(size) = body_size {
        span.record("http.response.body.size", size);
    }
    if status.is_server_error() {
        span.record("error.type", status.as_str());
        fail(span);
    }
}

/// The wrapped service returned an error instead of a response.
pub(crate) fn record_error(span: &Span) {
    span.record("error.type", "_OTHER");
    fail(span);
}

/// The wrapped service panicked while its future was polled.
pub(crate) fn record_panic(span: &Span) {
    span.record("error.type", "panic");
    fail(span);
}

/// The response future was dropped before it finished: the client went away, or the server
/// is shutting down.
pub(crate) fn record_cancelled(span: &Span) {
    span.record(fields::RESULT, "cancelled");
}

/// `otel.status_code` fails the exported span; `observe.result` the span record that the
/// log and metrics layers read.
fn fail(span: &Span) {
    span.record(fields::OTEL_STATUS_CODE, "ERROR");
    span.record(fields::RESULT, "error");
}
