//! The caller's side: an HTTP/1.1 request written byte for byte, so that header fields go
//! out exactly as a case gives them (repeated, in odd casing, with blanks around the value).
//! A client library would merge, reorder or normalise them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The service's answer: its status line's code and its body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// POSTs `body` (JSON) to `path` with `fields` written as `name: value` lines, in order.
pub fn post(addr: SocketAddr, path: &str, fields: &[(&str, &str)], body: &str) -> Answer {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in fields {
        assert!(
            !value.contains(['\r', '\n']),
            "a header value cannot hold a line break: {value:?}"
        );
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);

    let mut stream = TcpStream::connect(addr).expect("the service accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("the service answers and closes");
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {raw:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    Answer {
        status,
        body: body.to_owned(),
    }
}
