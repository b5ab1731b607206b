//! The server span of one request, with the stable OpenTelemetry HTTP attributes.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath};
use http::header::{HOST, USER_AGENT};
use http::{Method, Request, Version};
use tracing::field::Empty;

/// The span's fixed name; `otel.name` (and the log line's `span_name`) carry
/// `"{method} {route}"`, which tracing cannot take as a span name because names are static.
pub const SPAN_NAME: &str = "http.server.request";

/// The method as a label: the registered methods, `_OTHER` for anything else, so that a
/// client cannot mint label values (OTel HTTP semantic conventions).
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// The route template from axum's matched path; never the raw path, so unmatched requests
/// (probes, scanners) cannot explode cardinality.
pub(crate) fn route<B>(request: &Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
}

fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "unknown",
    }
}

/// Creates the span; the response fields are recorded when the response is known.
pub(crate) fn server_span<B>(
    request: &Request<B>,
    request_id: &str,
    trust_forwarded_for: bool,
) -> tracing::Span {
    let method = method_label(request.method());
    let route = route(request);
    let otel_name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let (server_address, server_port) = server_address(request);
    let client_address = client_address(request, trust_forwarded_for);
    let user_agent = request
        .headers()
        .get(USER_AGENT)
        .map(|agent| String::from_utf8_lossy(agent.as_bytes()).into_owned());
    tracing::info_span!(
        target: "observe_runtime::http",
        SPAN_NAME,
        otel.name = otel_name,
        otel.kind = "server",
        http.request.method = method,
        http.route = route,
        url.path = request.uri().path(),
        url.query = request.uri().query(),
        url.scheme = request.uri().scheme_str().unwrap_or("http"),
        server.address = server_address,
        server.port = server_port,
        client.address = client_address,
        network.protocol.version = protocol_version(request.version()),
        user_agent.original = user_agent,
        request_id,
        http.response.status_code = Empty,
        http.response.body.size = Empty,
        otel.status_code = Empty,
        observe.result = Empty,
    )
}

/// `Host` (or the URI authority) split into address and port.
fn server_address<B>(request: &Request<B>) -> (Option<String>, Option<u16>) {
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
    let Some(authority) = authority else {
        return (None, None);
    };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            match port.parse() {
                Ok(port) => (Some(host.to_owned()), Some(port)),
                Err(_) => (Some(authority), None),
            }
        }
        _ => (Some(authority), None),
    }
}

/// The peer from the socket; the first `x-forwarded-for` entry only when the service sits
/// behind a proxy it trusts (anyone can send that header).
fn client_address<B>(request: &Request<B>, trust_forwarded_for: bool) -> Option<String> {
    if trust_forwarded_for {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|h| h.to_str().ok())
            .and_then(|list| list.split(',').next())
            .map(str::trim)
            .filter(|first| first.parse::<std::net::IpAddr>().is_ok());
        if let Some(first) = forwarded {
            return Some(first.to_owned());
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}
