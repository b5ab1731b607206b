//! The scrape request: just enough HTTP/1.x for a `/metrics` endpoint. Read one bounded
//! request head, route it (and see which format the scraper accepts), write one response,
//! close.

use std::io::{self, Read, Write};

/// Request heads past this size are refused; a scrape request is a few hundred bytes.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// The content type of the text format 0.0.4.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics 1.0.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the server answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /metrics`, or `HEAD` (`body` false); `openmetrics` when the scraper accepts it.
    Metrics {
        body: bool,
        openmetrics: bool,
    },
    NotFound,
    MethodNotAllowed,
    BadRequest,
    HeadTooLarge,
    /// The peer closed without sending anything; nothing to answer.
    Nothing,
}

/// Reads the request head (up to [`MAX_HEAD`] bytes) and decides the answer.
pub(crate) fn read_route(stream: &mut impl Read) -> io::Result<Route> {
    let mut head = [0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        if let Some(end) = head_end(&head[..len]) {
            return Ok(route(&head[..end]));
        }
        if len == head.len() {
            return Ok(Route::HeadTooLarge);
        }
        match stream.read(&mut head[len..])? {
            0 if len == 0 => return Ok(Route::Nothing),
            0 => return Ok(Route::BadRequest),
            n => len += n,
        }
    }
}

/// Where the head ends: after the first empty line (`\r\n\r\n`, or bare `\n\n`, which
/// RFC 9112 lets servers accept).
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|at| at + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Routes a complete request head.
pub(crate) fn route(head: &[u8]) -> Route {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let Ok(line) = std::str::from_utf8(line) else {
        return Route::BadRequest;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if method.is_empty()
        || !method.bytes().all(is_tchar)
        || !matches!(version, "HTTP/1.0" | "HTTP/1.1")
        || !(target.starts_with('/')
            || target.starts_with("http://")
            || target.starts_with("https://"))
    {
        return Route::BadRequest;
    }
    let path = path_of(target);
    if path != "/metrics" {
        return Route::NotFound;
    }
    let openmetrics = accepts_openmetrics(head);
    match method {
        "GET" => Route::Metrics {
            body: true,
            openmetrics,
        },
        "HEAD" => Route::Metrics {
            body: false,
            openmetrics,
        },
        _ => Route::MethodNotAllowed,
    }
}

/// Whether a request head's `Accept` headers list OpenMetrics.
fn accepts_openmetrics(head: &[u8]) -> bool {
    let Ok(head) = std::str::from_utf8(head) else {
        return false;
    };
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("accept"))
        .any(|(_, value)| accept_lists_openmetrics(value))
}

/// Whether an `Accept` value lists OpenMetrics (Prometheus sends it first, with the text
/// format 0.0.4 as a fallback; a weight of 0 refuses it).
pub(crate) fn accept_lists_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let refused = parts
            .filter_map(|param| param.strip_prefix("q="))
            .any(|weight| weight.trim().parse::<f32>().is_ok_and(|q| q <= 0.0));
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}

/// The path of an origin-form (`/metrics?x`) or absolute-form (`http://h/metrics`) target.
fn path_of(target: &str) -> &str {
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => target,
    };
    target.split(['?', '#']).next().unwrap_or(target)
}

/// RFC 9110 token characters, which a method consists of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Writes a complete response in one write and asks the peer to close.
pub(crate) fn respond(
    stream: &mut impl Write,
    status: &str,
    content_type: &str,
    extra_headers: &str,
    body: &[u8],
    send_body: bool,
) -> io::Result<()> {
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if send_body {
        response.extend_from_slice(body);
    }
    stream.write_all(&response)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(request: &[u8]) -> Route {
        read_route(&mut &request[..]).unwrap()
    }

    #[test]
    fn routes() {
        assert_eq!(
            routed(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics {
                body: true,
                openmetrics: false
            }
        );
        assert_eq!(
            routed(b"GET /metrics?name=x HTTP/1.0\r\n\r\n"),
            Route::Metrics {
                body: true,
                openmetrics: false
            }
        );
        assert_eq!(
            routed(b"GET http://h:1/metrics HTTP/1.1\r\n\r\n"),
            Route::Metrics {
                body: true,
                openmetrics: false
            }
        );
        assert_eq!(
            routed(b"HEAD /metrics HTTP/1.1\n\n"),
            Route::Metrics {
                body: false,
                openmetrics: false
            }
        );
        assert_eq!(routed(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(routed(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(
            routed(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(routed(b"DELETE /other HTTP/1.1\r\n\r\n"), Route::NotFound);
    }

    #[test]
    fn openmetrics_when_the_scraper_accepts_it() {
        let prometheus = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n";
        assert_eq!(
            routed(prometheus),
            Route::Metrics {
                body: true,
                openmetrics: true
            }
        );
        assert_eq!(
            routed(b"GET /metrics HTTP/1.1\r\naccept: text/plain\r\n\r\n"),
            Route::Metrics {
                body: true,
                openmetrics: false
            }
        );
        assert_eq!(
            routed(b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text; q=0\r\n\r\n"),
            Route::Metrics {
                body: true,
                openmetrics: false
            }
        );
    }

    #[test]
    fn malformed_requests_are_bad_requests() {
        for request in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/2.0\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"G(T /metrics HTTP/1.1\r\n\r\n",
            b"\xff\xfe /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\n", // closed before the head ended
        ] {
            assert_eq!(
                routed(request),
                Route::BadRequest,
                "{:?}",
                String::from_utf8_lossy(request)
            );
        }
        assert_eq!(routed(b""), Route::Nothing);
    }

    #[test]
    fn heads_are_bounded() {
        let mut request = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        request.resize(MAX_HEAD * 4, b'a');
        assert_eq!(routed(&request), Route::HeadTooLarge);
    }
}
