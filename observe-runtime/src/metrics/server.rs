//! The `/metrics` endpoint.
//!
//! metrics-exporter-prometheus has an `http-listener` feature, but it answers every path
//! but `/health` with the exposition, and it needs tokio and hyper: either the app's
//! runtime or a runtime of its own. A scrape endpoint is one small request every few
//! seconds, so a plain std thread serves it, under any runtime flavour or none.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Metrics;
use super::scrape::{self as http, Route};

/// How long a client may take to send its request or take the response. Connections are
/// served one at a time, so this bounds how long one slow client delays the next scrape.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `/metrics` endpoint; dropping it stops the listener and frees the address.
///
/// ```
/// use observe_runtime::metrics::{Metrics, MetricsConfig};
/// use std::io::{Read, Write};
///
/// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
/// let server = metrics.serve("127.0.0.1:0").unwrap();
/// let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
/// stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
/// let mut response = String::new();
/// stream.read_to_string(&mut response).unwrap();
/// assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
/// ```
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// The address it listens on (with the actual port when asked for port 0).
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// let server = metrics.serve("127.0.0.1:0").unwrap();
    /// assert_ne!(server.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // `accept` has no timeout in std; a connection of our own wakes it to see the flag.
        let wake = match self.local_addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from((Ipv4Addr::LOCALHOST, a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from((Ipv6Addr::LOCALHOST, a.port()))
            }
            addr => addr,
        };
        let woken = TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok();
        if let Some(thread) = self.thread.take()
            && woken
        {
            let _ = thread.join();
        }
        // Not woken (odd firewalling): the thread exits at its next connection instead of
        // blocking this drop.
    }
}

impl Metrics {
    /// Serves the exposition at `GET /metrics` (and `HEAD`) on `addr`, from a thread of its
    /// own: no async runtime needed. Other paths get 404, other methods 405, malformed
    /// requests 400, request heads over 8 KiB 431.
    ///
    /// Fails when the address is invalid, cannot be resolved, or is taken.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// let server = metrics.serve("127.0.0.1:0").unwrap();
    /// assert!(metrics.serve(server.local_addr()).is_err(), "address taken");
    /// assert!(metrics.serve("not an address").is_err());
    /// ```
    pub fn serve(&self, addr: impl ToSocketAddrs) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let metrics = self.clone();
        let thread = std::thread::Builder::new()
            .name("observe-metrics-http".into())
            .spawn({
                let stop = stop.clone();
                move || accept_loop(&listener, &metrics, &stop)
            })?;
        Ok(MetricsServer {
            local_addr,
            stop,
            thread: Some(thread),
        })
    }
}

fn accept_loop(listener: &TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // Accept errors (a peer reset before accept, fd exhaustion) concern one connection.
        if let Ok(stream) = stream {
            let _ = serve_one(stream, metrics);
        }
    }
}

fn serve_one(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let route = match http::read_route(&mut stream) {
        Ok(route) => route,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Route::BadRequest
        }
        Err(e) => return Err(e),
    };
    let plain = "text/plain; charset=utf-8";
    match route {
        Route::Nothing => return Ok(()),
        Route::Metrics { body, openmetrics } => {
            let (render, content_type): (fn(&Metrics) -> String, _) = if openmetrics {
                (Metrics::render_openmetrics, http::OPENMETRICS_CONTENT_TYPE)
            } else {
                (Metrics::render, http::CONTENT_TYPE)
            };
            // A panicking collector must cost one scrape, not the endpoint.
            match catch_unwind(AssertUnwindSafe(|| render(metrics))) {
                Ok(text) => http::respond(
                    &mut stream,
                    "200 OK",
                    content_type,
                    "",
                    text.as_bytes(),
                    body,
                )?,
                Err(_) => http::respond(
                    &mut stream,
                    "500 Internal Server Error",
                    plain,
                    "",
                    b"collector panicked\n",
                    body,
                )?,
            }
        }
        Route::NotFound => http::respond(
            &mut stream,
            "404 Not Found",
            plain,
            "",
            b"not found; try /metrics\n",
            true,
        )?,
        Route::MethodNotAllowed => http::respond(
            &mut stream,
            "405 Method Not Allowed",
            plain,
            "Allow: GET, HEAD\r\n",
            b"method not allowed\n",
            true,
        )?,
        Route::BadRequest => http::respond(
            &mut stream,
            "400 Bad Request",
            plain,
            "",
            b"bad request\n",
            true,
        )?,
        Route::HeadTooLarge => http::respond(
            &mut stream,
            "431 Request Header Fields Too Large",
            plain,
            "",
            b"request head too large\n",
            true,
        )?,
    }
    linger(stream);
    Ok(())
}

/// Closing with unread request bytes (a body, say) makes the kernel send a reset, which can
/// destroy the response before the client reads it; so half-close and drain a little.
fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
    let _ = stream.flush();
}
