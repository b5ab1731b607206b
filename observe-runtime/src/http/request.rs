//! What the server span records about a request, read from its head and extensions.
//!
//! Only the values named here are read: no header besides `user-agent`, `host`, the trace
//! context headers and (when trusted) `x-forwarded-for` is ever looked at, so credentials in
//! `authorization`, `cookie` or `proxy-authorization` cannot reach a log line or a span.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath};
use http::{Method, Request, Version, header};

/// Longest `url.path` and `url.query` recorded; the rest is cut (at a character boundary).
const MAX_URL_PART: usize = 2048;
/// Longest `user_agent.original` recorded.
const MAX_USER_AGENT: usize = 512;
/// Longest host name (RFC 1035's limit for a whole name).
const MAX_HOST: usize = 253;

/// Query parameters whose values are replaced by `REDACTED`: the ones OpenTelemetry's
/// semantic conventions name, and the usual bearer-token carriers.
const SENSITIVE_QUERY_KEYS: &[&str] = &[
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "api_key",
    "apikey",
    "password",
    "client_secret",
];

/// The request attributes known when the request arrives.
#[derive(Debug)]
pub(crate) struct RequestInfo<'a> {
    /// Normalised: a known method's name, or `_OTHER`.
    pub(crate) method: &'static str,
    /// The method as sent, only when `method` is `_OTHER`.
    pub(crate) method_original: Option<&'a str>,
    pub(crate) route: Option<&'a str>,
    pub(crate) path: Cow<'a, str>,
    pub(crate) query: Option<Cow<'a, str>>,
    pub(crate) scheme: &'a str,
    pub(crate) server_address: Option<&'a str>,
    pub(crate) server_port: Option<u16>,
    pub(crate) client_address: Option<IpAddr>,
    pub(crate) protocol_version: Option<&'static str>,
    pub(crate) user_agent: Option<Cow<'a, str>>,
}

impl<'a> RequestInfo<'a> {
    pub(crate) fn read<B>(request: &'a Request<B>, trust_forwarded_for: bool) -> Self {
        let method = request.method();
        let normalised = method_label(method);
        let uri = request.uri();
        let (server_address, server_port) = server_of(request);
        RequestInfo {
            method: normalised,
            method_original: (normalised == OTHER).then(|| method.as_str()),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
            path: truncate(uri.path(), MAX_URL_PART),
            query: uri
                .query()
                .map(|query| redact_query(truncate(query, MAX_URL_PART))),
            scheme: uri.scheme_str().unwrap_or("http"),
            server_address,
            server_port,
            client_address: trust_forwarded_for
                .then(|| forwarded_for(request))
                .flatten()
                .or_else(|| connect_info(request)),
            protocol_version: protocol_version(request.version()),
            user_agent: request
                .headers()
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(|agent| truncate(agent, MAX_USER_AGENT)),
        }
    }

    /// The span name: `{method} {route}`, or the method alone when no route matched (never
    /// the raw path, which would make names unbounded). `HTTP` stands for unknown methods,
    /// as the semantic conventions ask.
    pub(crate) fn span_name(&self) -> Cow<'static, str> {
        let method = if self.method == OTHER {
            "HTTP"
        } else {
            self.method
        };
        match self.route {
            Some(route) => Cow::Owned(format!("{method} {route}")),
            None => Cow::Borrowed(method),
        }
    }
}

pub(crate) const OTHER: &str = "_OTHER";

/// The method as the semantic conventions record it: the RFC 9110 and RFC 5789 methods by
/// name, anything else as `_OTHER`, so a client cannot mint label values.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => OTHER,
    }
}

fn protocol_version(version: Version) -> Option<&'static str> {
    match version {
        Version::HTTP_09 => Some("0.9"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// `server.address` and `server.port` from the URI authority (HTTP/2's `:authority`,
/// absolute-form requests) or the `Host` header. A value that is not a plausible host is
/// not recorded.
fn server_of<B>(request: &Request<B>) -> (Option<&str>, Option<u16>) {
    let authority = request.uri().authority().map(|a| a.as_str()).or_else(|| {
        request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
    });
    authority.map_or((None, None), split_host_port)
}

fn split_host_port(authority: &str) -> (Option<&str>, Option<u16>) {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`; the address is recorded without brackets.
        match rest.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => (host, port.strip_prefix(':')),
            None => return (None, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let plausible = !host.is_empty()
        && host.len() <= MAX_HOST
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    if !plausible {
        return (None, None);
    }
    (Some(host), port.and_then(|port| port.parse().ok()))
}

/// The first address of `x-forwarded-for`: the original client, as the proxies tell it.
/// Only an IP address (optionally with a port) is accepted, so a forged header cannot
/// inject arbitrary text.
fn forwarded_for<B>(request: &Request<B>) -> Option<IpAddr> {
    let value = request.headers().get("x-forwarded-for")?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    first
        .parse::<IpAddr>()
        .ok()
        .or_else(|| first.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

fn connect_info<B>(request: &Request<B>) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Cuts `text` to at most `max` bytes at a character boundary.
fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(text[..end].to_owned())
}

/// Replaces the values of [`SENSITIVE_QUERY_KEYS`] with `REDACTED`; allocates only when
/// there is something to replace.
fn redact_query(query: Cow<'_, str>) -> Cow<'_, str> {
    let sensitive = |pair: &str| {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        SENSITIVE_QUERY_KEYS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(key))
            && pair.contains('=')
    };
    if !query.split('&').any(sensitive) {
        return query;
    }
    let redacted: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if sensitive(pair) => Cow::Owned(format!("{key}=REDACTED")),
            _ => Cow::Borrowed(pair),
        })
        .collect();
    Cow::Owned(redacted.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_normalised() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            OTHER
        );
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), OTHER);
    }

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host_port("example.com:8080"),
            (Some("example.com"), Some(8080))
        );
        assert_eq!(split_host_port("example.com"), (Some("example.com"), None));
        assert_eq!(split_host_port("[::1]:443"), (Some("::1"), Some(443)));
        assert_eq!(split_host_port("[::1]"), (Some("::1"), None));
        assert_eq!(split_host_port("a b:80"), (None, None));
        assert_eq!(split_host_port(""), (None, None));
        assert_eq!(split_host_port("[::1"), (None, None));
        assert_eq!(split_host_port("host:notaport"), (Some("host"), None));
    }

    #[test]
    fn forwarded_for_takes_the_first_address_only_if_it_is_one() {
        let with = |value: &str| {
            let request = Request::builder()
                .header("x-forwarded-for", value)
                .body(())
                .unwrap();
            forwarded_for(&request)
        };
        assert_eq!(with("203.0.113.7, 10.0.0.1"), "203.0.113.7".parse().ok());
        assert_eq!(with("[2001:db8::1]:4711"), "2001:db8::1".parse().ok());
        assert_eq!(with("<script>"), None);
        assert_eq!(with(""), None);
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn sensitive_query_values_are_redacted() {
        assert!(matches!(
            redact_query(Cow::Borrowed("a=1&b=2")),
            Cow::Borrowed("a=1&b=2")
        ));
        assert_eq!(
            redact_query(Cow::Borrowed("page=2&access_token=s3cr3t&sig=abc&flag")),
            "page=2&access_token=REDACTED&sig=REDACTED&flag"
        );
        assert_eq!(redact_query(Cow::Borrowed("token")), "token");
    }

    #[test]
    fn span_names_never_use_the_path() {
        let request = Request::builder()
            .method("PROPFIND")
            .uri("/users/42?x=1")
            .body(())
            .unwrap();
        let info = RequestInfo::read(&request, false);
        assert_eq!(info.span_name(), "HTTP");
        assert_eq!(info.method_original, Some("PROPFIND"));
        assert_eq!(info.path, "/users/42");
        assert_eq!(info.query.as_deref(), Some("x=1"));
        assert_eq!(info.scheme, "http");
    }
}
