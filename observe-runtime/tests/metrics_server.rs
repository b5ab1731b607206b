//! The `/metrics` endpoint, over real TCP with a std client.

mod metrics_support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use metrics_support::{Stack, dispatch, metrics};
use observe_runtime::metrics::{Metrics, MetricsConfig};

fn exchange(server: std::net::SocketAddr, request: &[u8]) -> (String, String) {
    let mut stream = TcpStream::connect(server).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    (head.to_string(), body.to_string())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn recorded() -> Metrics {
    let metrics = metrics(MetricsConfig::default());
    let (dispatch, _) = dispatch(&metrics, Stack::Alone);
    tracing::dispatcher::with_default(&dispatch, || {
        let _ = tracing::info_span!("save", metric_name = "db_event", metric_label_t = "events");
    });
    metrics
}

#[test]
fn get_metrics_answers_the_exposition() {
    let metrics = recorded();
    let server = metrics.serve("127.0.0.1:0").unwrap();
    let (head, body) = exchange(
        server.local_addr(),
        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(
        header(&head, "content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        header(&head, "content-length"),
        Some(body.len().to_string().as_str())
    );
    assert!(
        body.contains("db_event_total{t=\"events\",result=\"ok\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE db_event_duration_seconds histogram\n"),
        "{body}"
    );

    let (head, body) = exchange(server.local_addr(), b"HEAD /metrics HTTP/1.0\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_ne!(header(&head, "content-length"), Some("0"));
    assert_eq!(body, "");
}

#[test]
fn other_paths_methods_and_garbage() {
    let metrics = recorded();
    let server = metrics.serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();

    let (head, _) = exchange(addr, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    let (head, _) = exchange(addr, b"GET / HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");

    let (head, body) = exchange(
        addr,
        b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert!(head.starts_with("HTTP/1.1 405 "), "{head}");
    assert_eq!(header(&head, "allow"), Some("GET, HEAD"));
    assert!(!body.contains("db_event"));

    let (head, _) = exchange(addr, b"this is not http\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    let (head, _) = exchange(addr, b"\x00\xff\xfe\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");

    // An endless head is cut off at a bound, not read forever.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nX: ").unwrap();
    let _ = stream.write_all(&vec![b'a'; 64 * 1024]);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    assert!(
        response.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&response)
    );

    // A client that connects and leaves does not stop the server.
    TcpStream::connect(addr)
        .unwrap()
        .shutdown(Shutdown::Both)
        .unwrap();
    let (head, _) = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
}

#[test]
fn binding_errors_and_drop() {
    let metrics = recorded();
    let server = metrics.serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert!(metrics.serve(addr).is_err(), "address taken");
    assert!(metrics.serve("not an address").is_err());
    assert!(metrics.serve("127.0.0.1:99999").is_err());

    drop(server);
    // Dropping stops it: the address is free again and a new server can take it.
    let again = metrics.serve(addr).expect("address freed by drop");
    let (head, _) = exchange(again.local_addr(), b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
}

#[test]
fn serves_from_inside_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let metrics = recorded();
        let server = metrics.serve("127.0.0.1:0").unwrap();
        // A blocking client on the runtime's only thread: the server must not need it.
        let (head, body) = exchange(server.local_addr(), b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(body.contains("db_event_total"));
    });
}
