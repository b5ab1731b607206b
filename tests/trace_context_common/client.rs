//! The caller's side: an HTTP/1.1 request written byte for byte (`observe_testkit::http`), so
//! that header fields go out exactly as a case gives them (repeated, in odd casing, with
//! blanks around the value). A client library would merge, reorder or normalise them.

use std::net::SocketAddr;

use observe_testkit::http::{Response, request};

/// POSTs `body` (JSON) to `path` with `fields` written as `name: value` lines, in order.
pub(crate) fn post(addr: SocketAddr, path: &str, fields: &[(&str, &str)], body: &str) -> Response {
    let mut headers: Vec<(&str, &[u8])> = vec![("Content-Type", b"application/json")];
    for (name, value) in fields {
        assert!(
            !value.contains(['\r', '\n']),
            "a header value cannot hold a line break: {value:?}"
        );
        headers.push((name, value.as_bytes()));
    }
    request(addr, "POST", path, &headers, body.as_bytes())
}
