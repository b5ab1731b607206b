//! The load generator: `connections` HTTP/1.1 keep-alive connections, each sending its next
//! request as soon as the previous response's body has arrived (a closed loop, so the
//! concurrency is fixed), on one thread with a current-thread tokio runtime. A warm-up,
//! then a measured window: requests/s are the responses completed inside the window divided
//! by its length, and the percentiles come from an HDR histogram of those responses'
//! latencies.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How hard and how long to drive the server.
#[derive(Clone, Debug)]
pub(super) struct LoadSpec {
    /// Connections, each with one request in flight.
    pub connections: usize,
    /// Driven but not measured: connections, caches, metric series, buffers settle.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// Instead of the warm-up and the window: exactly this many requests per connection, all
    /// measured (for callgrind, whose counts then depend on the request count only).
    pub requests: Option<u64>,
}

impl Default for LoadSpec {
    fn default() -> Self {
        LoadSpec {
            connections: 16,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            requests: None,
        }
    }
}

impl LoadSpec {
    /// Takes `--connections N`, `--warmup SECS` and `--duration SECS` out of `args`; returns
    /// the other arguments.
    pub(super) fn parse_options<'a>(&mut self, args: &[&'a str]) -> Result<Vec<&'a str>, String> {
        let mut rest = Vec::new();
        let mut args = args.iter();
        while let Some(&arg) = args.next() {
            let mut value = || {
                args.next()
                    .copied()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg {
                "--connections" => {
                    let v = value()?;
                    self.connections = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("--connections {v:?}: a count of at least 1"))?;
                }
                "--warmup" => self.warmup = seconds(arg, value()?)?,
                "--requests" => {
                    let v = value()?;
                    let n = v.parse().ok().filter(|&n| n > 0);
                    self.requests =
                        Some(n.ok_or_else(|| format!("--requests {v:?}: a count of at least 1"))?);
                }
                "--duration" => {
                    self.duration = seconds(arg, value()?)?;
                    if self.duration.is_zero() {
                        return Err("--duration must be more than 0 s".into());
                    }
                }
                other => rest.push(other),
            }
        }
        Ok(rest)
    }

    /// The measured window of a load that starts at `start`.
    pub(super) fn window(&self, start: Instant) -> Window {
        Window {
            from: start + self.warmup,
            to: start + self.warmup + self.duration,
        }
    }

    /// The options that make another process's `LoadSpec` equal to this one.
    pub(super) fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--connections".into(),
            self.connections.to_string(),
            "--warmup".into(),
            self.warmup.as_secs_f64().to_string(),
            "--duration".into(),
            self.duration.as_secs_f64().to_string(),
        ];
        if let Some(n) = self.requests {
            args.extend(["--requests".into(), n.to_string()]);
        }
        args
    }
}

fn seconds(option: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{option} {value:?}: seconds, e.g. 2 or 0.5"))
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LoadStats {
    /// Responses completed in the measured window, per second.
    pub requests_per_sec: f64,
    /// Median latency of those responses, ns.
    pub p50_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// Responses completed in the measured window.
    pub measured_requests: u64,
    /// Every response, warm-up included (each made spans that must be exported).
    pub total_requests: u64,
}

impl LoadStats {
    /// `requests/s  p50 ns  p99 ns  measured  total`, tab-separated.
    pub(super) fn to_line(&self) -> String {
        format!(
            "{:.1}\t{}\t{}\t{}\t{}",
            self.requests_per_sec,
            self.p50_ns,
            self.p99_ns,
            self.measured_requests,
            self.total_requests
        )
    }

    pub(super) fn from_line(line: &str) -> Result<LoadStats, String> {
        let bad = || format!("not a load result line: {line:?}");
        let cols: Vec<&str> = line.split('\t').collect();
        let [rps, p50, p99, measured, total] = cols.as_slice() else {
            return Err(bad());
        };
        Ok(LoadStats {
            requests_per_sec: rps.parse().map_err(|_| bad())?,
            p50_ns: p50.parse().map_err(|_| bad())?,
            p99_ns: p99.parse().map_err(|_| bad())?,
            measured_requests: measured.parse().map_err(|_| bad())?,
            total_requests: total.parse().map_err(|_| bad())?,
        })
    }
}

/// Drives `addr` per `spec` from a new thread (its own runtime, no tracing dispatcher, so
/// the client's work never reaches the telemetry under test), its warm-up counted from
/// `start`. With `linger`, the thread ends only once a message arrives (or the sender is
/// dropped), so that it is still there to be counted when the window's CPU time is read.
pub(super) fn spawn(
    addr: SocketAddr,
    spec: LoadSpec,
    start: Instant,
    linger: Option<mpsc::Receiver<()>>,
) -> Result<JoinHandle<Result<LoadStats, String>>, String> {
    std::thread::Builder::new()
        .name("http-load".into())
        .spawn(move || {
            let _quiet = tracing::dispatcher::set_default(&tracing::Dispatch::none());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("load runtime: {e}"))?;
            let stats = runtime.block_on(drive(addr, spec, start));
            if let Some(linger) = linger {
                let _ = linger.recv();
            }
            stats
        })
        .map_err(|e| format!("load thread: {e}"))
}

/// [`spawn`], then waits for the figures.
pub(super) fn run_on_own_thread(addr: SocketAddr, spec: LoadSpec) -> Result<LoadStats, String> {
    spawn(addr, spec, Instant::now(), None)?
        .join()
        .map_err(|_| "the load thread panicked".to_string())?
}

/// The latencies the histogram can hold: 1 µs to 60 s, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 60_000_000_000, 3).expect("valid histogram bounds")
}

async fn drive(addr: SocketAddr, spec: LoadSpec, start: Instant) -> Result<LoadStats, String> {
    let until = match spec.requests {
        Some(n) => Until::Count(n),
        None => Until::Window(spec.window(start)),
    };
    let tasks: Vec<_> = (0..spec.connections)
        .map(|i| tokio::spawn(connection(addr, i as u64, spec.connections as u64, until)))
        .collect();
    let mut latencies = histogram();
    let mut total_requests = 0;
    for task in tasks {
        let done = task
            .await
            .map_err(|e| format!("a connection task failed: {e}"))??;
        latencies
            .add(&done.latencies)
            .map_err(|e| format!("merging histograms: {e}"))?;
        total_requests += done.requests;
    }
    let measured_requests = latencies.len();
    if measured_requests == 0 {
        return Err("no response completed in the measured window".into());
    }
    let measured_time = match until {
        Until::Count(_) => start.elapsed(),
        Until::Window(_) => spec.duration,
    };
    Ok(LoadStats {
        requests_per_sec: measured_requests as f64 / measured_time.as_secs_f64(),
        p50_ns: latencies.value_at_quantile(0.50),
        p99_ns: latencies.value_at_quantile(0.99),
        measured_requests,
        total_requests,
    })
}

/// The measured window: responses completed in it count.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub from: Instant,
    pub to: Instant,
}

/// When a connection stops.
#[derive(Clone, Copy, Debug)]
enum Until {
    /// At the first response past the window; those inside it are measured.
    Window(Window),
    /// After this many responses, all measured.
    Count(u64),
}

/// One connection's figures.
struct ConnectionStats {
    latencies: Histogram<u64>,
    requests: u64,
}

/// One keep-alive connection: request, whole response, next request, `until` it is done. Connection `i` of `n` asks for songs `i`, `i + n`, ... (mod 1000), so that paths
/// vary as in a service.
async fn connection(
    addr: SocketAddr,
    i: u64,
    n: u64,
    until: Until,
) -> Result<ConnectionStats, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP/1.1 handshake with {addr}: {e}"))?;
    tokio::spawn(conn);
    let host = addr.to_string();
    let mut stats = ConnectionStats {
        latencies: histogram(),
        requests: 0,
    };
    let mut song = i;
    loop {
        let request = Request::get(format!("/songs/{}", song % 1000))
            .header(header::HOST, &host)
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("request: {e}"))?;
        sender
            .ready()
            .await
            .map_err(|e| format!("connection to {addr} closed: {e}"))?;
        let sent = Instant::now();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request to {addr}: {e}"))?;
        let status = response.status();
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?;
        let done = Instant::now();
        if status != StatusCode::OK {
            return Err(format!("GET /songs/{}: {status}", song % 1000));
        }
        // Counted even past the window: the server made its spans all the same.
        stats.requests += 1;
        let latency = done.duration_since(sent).as_nanos() as u64;
        match until {
            Until::Window(window) => {
                if done > window.to {
                    return Ok(stats);
                }
                if done >= window.from {
                    stats.latencies.saturating_record(latency);
                }
            }
            Until::Count(n) => {
                stats.latencies.saturating_record(latency);
                if stats.requests == n {
                    return Ok(stats);
                }
            }
        }
        song += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_taken_and_the_rest_returned() {
        let mut spec = LoadSpec::default();
        let rest = spec
            .parse_options(&["--connections", "4", "--load-process", "--duration", "0.5"])
            .unwrap();
        assert_eq!(rest, ["--load-process"]);
        assert_eq!(spec.connections, 4);
        assert_eq!(spec.duration, Duration::from_millis(500));
        assert_eq!(spec.warmup, Duration::from_secs(2));
    }

    #[test]
    fn bad_options_are_named() {
        let err = LoadSpec::default()
            .parse_options(&["--connections", "0"])
            .unwrap_err();
        assert!(err.contains("--connections \"0\""), "{err}");
        let err = LoadSpec::default()
            .parse_options(&["--duration"])
            .unwrap_err();
        assert_eq!(err, "--duration needs a value");
        let err = LoadSpec::default()
            .parse_options(&["--warmup", "soon"])
            .unwrap_err();
        assert!(err.contains("seconds"), "{err}");
    }

    #[test]
    fn a_spec_survives_the_trip_to_the_load_process() {
        let spec = LoadSpec {
            connections: 3,
            warmup: Duration::from_millis(250),
            duration: Duration::from_secs(7),
            requests: Some(40),
        };
        let args = spec.to_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut back = LoadSpec::default();
        assert!(back.parse_options(&args).unwrap().is_empty());
        assert_eq!(
            (back.connections, back.warmup, back.duration, back.requests),
            (3, spec.warmup, spec.duration, Some(40))
        );
    }

    /// Serves `app` on 127.0.0.1 from a runtime of its own, which the caller keeps alive.
    fn serve(app: axum::Router) -> (tokio::runtime::Runtime, SocketAddr) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
        (runtime, addr)
    }

    #[test]
    fn drives_a_real_server_and_measures_its_responses() {
        let app = axum::Router::new().route(
            "/songs/{id}",
            axum::routing::get(
                |axum::extract::Path(id): axum::extract::Path<u64>| async move { id.to_string() },
            ),
        );
        let (_runtime, addr) = serve(app);
        let spec = LoadSpec {
            connections: 2,
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(300),
            requests: None,
        };
        let stats = run_on_own_thread(addr, spec).unwrap();
        assert!(stats.measured_requests > 0);
        assert!(stats.total_requests > stats.measured_requests);
        assert!(
            stats.p50_ns > 0 && stats.p50_ns <= stats.p99_ns,
            "{stats:?}"
        );
        let rps = stats.measured_requests as f64 / 0.3;
        assert!((stats.requests_per_sec - rps).abs() < 1e-6, "{stats:?}");
    }

    #[test]
    fn a_fixed_count_makes_exactly_that_many_requests() {
        let served = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = served.clone();
        let app = axum::Router::new().route(
            "/songs/{id}",
            axum::routing::get(move || async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                "ok"
            }),
        );
        let (_runtime, addr) = serve(app);
        let spec = LoadSpec {
            requests: Some(25),
            connections: 3,
            ..LoadSpec::default()
        };
        let stats = run_on_own_thread(addr, spec).unwrap();
        assert_eq!((stats.measured_requests, stats.total_requests), (75, 75));
        assert_eq!(served.load(std::sync::atomic::Ordering::Relaxed), 75);
    }

    #[test]
    fn a_server_that_fails_fails_the_run() {
        let app = axum::Router::new().route(
            "/songs/{id}",
            axum::routing::get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        );
        let (_runtime, addr) = serve(app);
        let spec = LoadSpec {
            connections: 1,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(100),
            requests: None,
        };
        let err = run_on_own_thread(addr, spec).unwrap_err();
        assert!(err.contains("500 Internal Server Error"), "{err}");
    }

    #[test]
    fn a_result_line_round_trips() {
        let stats = LoadStats {
            requests_per_sec: 12345.5,
            p50_ns: 900_000,
            p99_ns: 2_100_000,
            measured_requests: 123_455,
            total_requests: 150_000,
        };
        assert_eq!(LoadStats::from_line(&stats.to_line()).unwrap(), stats);
        assert!(LoadStats::from_line("12\t3").is_err());
    }
}
