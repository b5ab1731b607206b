//! A raw HTTP/1.1 client for tests: the request goes out byte for byte as the test gives it
//! (header fields repeated, in odd casing, or with bytes a client library would refuse), and
//! the whole response is read back, until the server closes the connection.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpListener;
//!
//! use observe_testkit::http::get;
//!
//! let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//! let addr = listener.local_addr().unwrap();
//! let server = std::thread::spawn(move || {
//!     let (mut conn, _) = listener.accept().unwrap();
//!     let mut request = Vec::new();
//!     while !request.ends_with(b"\r\n\r\n") {
//!         let mut byte = [0];
//!         conn.read_exact(&mut byte).unwrap();
//!         request.push(byte[0]);
//!     }
//!     conn.write_all(b"HTTP/1.1 200 OK\r\nx-request-id: r-1\r\n\r\nhello").unwrap();
//!     String::from_utf8(request).unwrap()
//! });
//!
//! let response = get(addr, "/hello", &[("x-request-id", b"r-1")]);
//! assert_eq!(response.status, 200);
//! assert_eq!(response.header("X-Request-Id"), Some("r-1"));
//! assert_eq!(response.body, "hello");
//! let request = server.join().unwrap();
//! assert!(request.starts_with("GET /hello HTTP/1.1\r\n"));
//! assert!(request.ends_with("\r\nConnection: close\r\nx-request-id: r-1\r\n\r\n"));
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a request waits for the server to answer and close before the test fails,
/// rather than hang.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// A response as the server sent it: its status code, its header fields in order (names as
/// sent, values as raw bytes), and its body as text (a chunked body decoded; invalid UTF-8
/// replaced with U+FFFD).
///
/// ```
/// use observe_testkit::http::parse_response;
///
/// let response = parse_response(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").unwrap();
/// assert_eq!(response.status, 404);
/// assert_eq!(response.headers, [("content-length".to_string(), b"0".to_vec())]);
/// assert!(response.body.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code of the status line.
    pub status: u16,
    /// The header fields in order, each value without the blanks around it.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, decoded from chunked transfer coding when the response used it.
    pub body: String,
}

impl Response {
    /// The value of the first header field called `name` (in any case), as text.
    ///
    /// # Panics
    /// When that value is not UTF-8 (read [`headers`](Self::headers) for raw bytes).
    ///
    /// ```
    /// use observe_testkit::http::parse_response;
    ///
    /// let response = parse_response(b"HTTP/1.1 200 OK\r\nX-Request-Id: r-7\r\n\r\n").unwrap();
    /// assert_eq!(response.header("x-request-id"), Some("r-7"));
    /// assert_eq!(response.header("traceparent"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        let (name, value) = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(
            std::str::from_utf8(value)
                .unwrap_or_else(|_| panic!("header {name} is not UTF-8: {value:?}")),
        )
    }
}

/// Sends one HTTP/1.1 request to `addr` and reads the whole response.
///
/// The request is `{method} {target} HTTP/1.1`, then `Host: {addr}`, `Connection: close`,
/// `Content-Length` when `body` is not empty, then `headers` in order, each written as
/// `name: value` exactly as given, then `body`.
///
/// # Panics
/// When the connection fails, the server sends nothing for 20 seconds, or its answer is
/// not an HTTP/1.x response (the message names the request and shows the answer).
///
/// ```
/// use std::io::{BufRead, BufReader, Read, Write};
/// use std::net::TcpListener;
///
/// use observe_testkit::http::request;
///
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// let server = std::thread::spawn(move || {
///     let (conn, _) = listener.accept().unwrap();
///     let mut reader = BufReader::new(conn);
///     let mut length = 0;
///     loop {
///         let mut line = String::new();
///         reader.read_line(&mut line).unwrap();
///         if line == "\r\n" {
///             break;
///         }
///         if let Some(value) = line.strip_prefix("Content-Length: ") {
///             length = value.trim().parse().unwrap();
///         }
///     }
///     let mut body = vec![0; length];
///     reader.read_exact(&mut body).unwrap();
///     let answer = format!("HTTP/1.1 201 Created\r\n\r\ngot {}", String::from_utf8(body).unwrap());
///     reader.into_inner().write_all(answer.as_bytes()).unwrap();
/// });
///
/// let response = request(addr, "POST", "/songs", &[("content-type", b"application/json")], b"{}");
/// server.join().unwrap();
/// assert_eq!(response.status, 201);
/// assert_eq!(response.body, "got {}");
/// ```
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Response {
    let mut raw =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    if !body.is_empty() {
        raw.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    for (name, value) in headers {
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    let answer =
        exchange(addr, &raw).unwrap_or_else(|error| panic!("{method} {target} to {addr}: {error}"));
    parse_response(&answer).unwrap_or_else(|error| {
        panic!(
            "{method} {target} to {addr}: {error} in {:?}",
            String::from_utf8_lossy(&answer)
        )
    })
}

/// [`request`] with the `GET` method and no body.
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
/// use std::net::TcpListener;
///
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// std::thread::spawn(move || {
///     let (conn, _) = listener.accept().unwrap();
///     let mut reader = BufReader::new(conn);
///     let mut line = String::new();
///     while line != "\r\n" {
///         line.clear();
///         reader.read_line(&mut line).unwrap();
///     }
///     reader.into_inner().write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
/// });
/// assert_eq!(observe_testkit::http::get(addr, "/health", &[]).status, 204);
/// ```
pub fn get(addr: SocketAddr, target: &str, headers: &[(&str, &[u8])]) -> Response {
    request(addr, "GET", target, headers, b"")
}

/// Reads a whole HTTP/1.x response: status line, header fields, and the body after them (to
/// the end of `raw`, or decoded when `Transfer-Encoding: chunked`).
///
/// # Errors
/// What is wrong, when `raw` has no complete head, a status line without a three-digit
/// code, a header line without a colon or a name that is not text, or a malformed chunked
/// body.
///
/// ```
/// use observe_testkit::http::parse_response;
///
/// let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\na\r\nb\r\n0\r\n\r\n";
/// assert_eq!(parse_response(raw).unwrap().body, "a\r\nb");
/// assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err(), "the head never ends");
/// ```
pub fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let end = find(raw, b"\r\n\r\n").ok_or("no blank line after the response head")?;
    let mut lines = raw[..end].split(|&b| b == b'\n').map(|line| {
        // Every line but the last ends in CRLF; the head was cut before the last one's.
        line.strip_suffix(b"\r").unwrap_or(line)
    });
    let status_line = lines.next().unwrap_or_default();
    let status = parse_status_line(status_line).ok_or_else(|| {
        format!(
            "not an HTTP/1.x status line: {:?}",
            String::from_utf8_lossy(status_line)
        )
    })?;
    let headers = lines.map(parse_field).collect::<Result<Vec<_>, _>>()?;
    let body = &raw[end + 4..];
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case(b"chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Sends `raw` as is and reads the answer until the server closes the connection.
fn exchange(addr: SocketAddr, raw: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.write_all(raw)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer)
}

/// The code of `HTTP/1.x NNN reason`.
fn parse_status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let [minor, b' ', code @ ..] = rest else {
        return None;
    };
    if !minor.is_ascii_digit() {
        return None;
    }
    let code = code
        .get(..3)
        .filter(|_| matches!(code.get(3), None | Some(b' ')))?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// `name: value`, with the blanks around the value left out.
fn parse_field(line: &[u8]) -> Result<(String, Vec<u8>), String> {
    let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
        format!(
            "a header line without a colon: {:?}",
            String::from_utf8_lossy(line)
        )
    })?;
    let name = std::str::from_utf8(&line[..colon])
        .ok()
        .filter(|name| !name.is_empty() && !name.contains([' ', '\t']))
        .ok_or_else(|| format!("a bad header name: {:?}", String::from_utf8_lossy(line)))?;
    let value = line[colon + 1..].trim_ascii();
    Ok((name.to_owned(), value.to_vec()))
}

/// Decodes a chunked body: `size[;extensions] CRLF data CRLF` until the zero-size chunk
/// (trailer fields after it are not kept).
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = find(body, b"\r\n").ok_or("a chunk size line without CRLF")?;
        let size_line = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("a bad chunk size: {size_line:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        match body.get(size..size + 2) {
            Some(b"\r\n") => {}
            _ => {
                return Err(format!(
                    "a chunk of {size} bytes cut short or not ended by CRLF"
                ));
            }
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn head_fields_and_plain_body() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nx-empty:\r\nX-Pad:  \t spaced \t\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\nline 1\r\n\r\nline 2";
        let response = parse_response(raw).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(
            response.headers,
            [
                ("Content-Type".to_string(), b"text/plain".to_vec()),
                ("x-empty".to_string(), b"".to_vec()),
                ("X-Pad".to_string(), b"spaced".to_vec()),
                ("set-cookie".to_string(), b"a=1".to_vec()),
                ("set-cookie".to_string(), b"b=2".to_vec()),
            ]
        );
        assert_eq!(response.header("content-type"), Some("text/plain"));
        assert_eq!(
            response.header("SET-COOKIE"),
            Some("a=1"),
            "the first of repeated fields"
        );
        assert_eq!(response.body, "line 1\r\n\r\nline 2");
        let no_reason = parse_response(b"HTTP/1.0 503\r\n\r\n").unwrap();
        assert_eq!((no_reason.status, no_reason.headers.len()), (503, 0));
    }

    #[test]
    fn chunked_bodies_are_decoded_exactly() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n\
            4;name=x\r\n0\r\n1\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\ntrailer: t\r\n\r\n";
        assert_eq!(
            parse_response(raw).unwrap().body,
            "0\r\n1abcdefghijklmnopqrstuvwxyz"
        );
        for bad in [
            &b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabc\r\n0\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        ] {
            assert!(
                parse_response(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn what_is_not_a_response_is_refused_with_a_reason() {
        for (raw, reason) in [
            (&b""[..], "no blank line"),
            (b"HTTP/1.1 200 OK\r\nHost: x\r\n", "no blank line"),
            (b"garbage\r\n\r\n", "status line"),
            (b"HTTP/2 200\r\n\r\n", "status line"),
            (b"HTTP/1.1 20 OK\r\n\r\n", "status line"),
            (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
            (b"HTTP/1.1 abc OK\r\n\r\n", "status line"),
            (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "without a colon"),
            (
                b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
                "bad header name",
            ),
            (b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n", "bad header name"),
        ] {
            let error = parse_response(raw).unwrap_err();
            assert!(error.contains(reason), "{raw:?}: {error}");
        }
    }

    #[test]
    #[should_panic(expected = "not UTF-8")]
    fn a_header_that_is_not_text_is_not_read_as_text() {
        let response = parse_response(b"HTTP/1.1 200 OK\r\nx-raw: \xff\r\n\r\n").unwrap();
        assert_eq!(response.headers[0].1, b"\xff");
        response.header("x-raw");
    }

    /// A real peer on 127.0.0.1: it keeps the request's bytes and answers `answer`.
    fn serve_once(answer: &'static [u8]) -> (SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
            let mut request = Vec::new();
            let mut buf = [0; 1024];
            // The head, then the body its Content-Length announces.
            loop {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the client closed before its request ended");
                request.extend_from_slice(&buf[..n]);
                if let Some(end) = find(&request, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&request[..end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map_or(0, |v| v.parse().unwrap());
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            conn.write_all(answer).unwrap();
            request
        });
        (addr, server)
    }

    #[test]
    fn requests_go_out_byte_for_byte() {
        let (addr, server) = serve_once(b"HTTP/1.1 200 OK\r\nx-request-id: a\r\n\r\nok");
        let response = get(
            addr,
            "/items/1?q=1",
            &[
                ("User-Agent", b"probe/1.0"),
                ("X-Odd", b" \xff "),
                ("x-odd", b"2"),
            ],
        );
        assert_eq!(response.status, 200);
        assert_eq!(response.header("x-request-id"), Some("a"));
        assert_eq!(response.body, "ok");
        let mut sent = format!(
            "GET /items/1?q=1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             User-Agent: probe/1.0\r\nX-Odd: "
        )
        .into_bytes();
        sent.extend_from_slice(b" \xff \r\nx-odd: 2\r\n\r\n");
        assert_eq!(server.join().unwrap(), sent);
    }

    #[test]
    fn a_body_goes_out_with_its_length() {
        let (addr, server) = serve_once(b"HTTP/1.1 201 Created\r\n\r\n");
        let response = request(
            addr,
            "POST",
            "/songs",
            &[("Content-Type", b"application/json")],
            b"{\"a\":1}",
        );
        assert_eq!(response.status, 201);
        assert_eq!(
            String::from_utf8(server.join().unwrap()).unwrap(),
            format!(
                "POST /songs HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
                 Content-Length: 7\r\nContent-Type: application/json\r\n\r\n{{\"a\":1}}"
            )
        );
    }

    #[test]
    #[should_panic(expected = "not an HTTP/1.x status line")]
    fn an_answer_that_is_not_http_fails_the_test_naming_the_request() {
        let (addr, _server) = serve_once(b"SSH-2.0-OpenSSH\r\n\r\n");
        get(addr, "/", &[]);
    }
}
