//! The songs example end to end, against real parts: the example binary, a Prometheus
//! server (Debian's `prometheus` package) scraping it over loopback, `promtool`, and an
//! OTLP receiver built on `opentelemetry-proto`.
//!
//! Run by `scripts/e2e.sh`, which installs Prometheus and builds the example first:
//! `cargo test --test songs_e2e -- --ignored --nocapture`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use observe_testkit::logfmt::parse_line;
use observe_testkit::otlp::{ReceivedSpan, Receiver};

const INCOMING_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_PARENT: &str = "00f067aa0ba902b7";

/// A child process that is stopped (SIGTERM, then SIGKILL) however the test ends.
struct Running {
    name: &'static str,
    child: Child,
}

impl Running {
    fn spawn(name: &'static str, command: &mut Command) -> Running {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running { name, child }
    }

    /// SIGTERM and wait: the songs service flushes its logs and spans on the way out.
    fn terminate(&mut self, within: Duration) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("{} did not exit within {within:?} of SIGTERM", self.name);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A minimal HTTP/1.0 client: no keep-alive, no chunking, nothing to hide a failure.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn wait_until<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn example_binary() -> PathBuf {
    // target/<profile>/deps/songs_e2e-… → target/<profile>/examples/songs
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir.join("examples").join("songs");
    assert!(
        binary.exists(),
        "{} missing: run `cargo build --example songs` first",
        binary.display()
    );
    binary
}

/// `sum by (labels) (query)` as a map from the label values to the number.
fn promql(prometheus: SocketAddr, query: &str, by: &[&str]) -> BTreeMap<Vec<String>, f64> {
    let encoded: String = query
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (status, body) = http(
        prometheus,
        "GET",
        &format!("/api/v1/query?query={encoded}"),
        &[],
        "",
    );
    assert_eq!(status, 200, "{query}: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut out = BTreeMap::new();
    for sample in json["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let key = by
            .iter()
            .map(|l| sample["metric"][*l].as_str().unwrap_or("").to_owned())
            .collect();
        let value = sample["value"][1].as_str().unwrap().parse().unwrap();
        out.insert(key, value);
    }
    out
}

fn expect(entries: &[(&[&str], f64)]) -> BTreeMap<Vec<String>, f64> {
    entries
        .iter()
        .map(|(k, v)| (k.iter().map(|s| s.to_string()).collect(), *v))
        .collect()
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs Debian's prometheus package and the built example"]
fn songs_service_end_to_end() {
    let scratch = std::env::temp_dir().join(format!("observe-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let log_path = scratch.join("songs.log");
    let receiver = Receiver::start_grpc();

    // The service.
    let app = free_addr();
    let mut songs = Running::spawn(
        "songs",
        Command::new(example_binary())
            .args(["--addr", &app.to_string()])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .env("OTEL_SERVICE_NAME", "songs")
            .env("RUST_LOG", "info")
            .stdout(std::fs::File::create(&log_path).unwrap())
            .stderr(Stdio::inherit()),
    );
    wait_until("songs to listen", Duration::from_secs(30), || {
        TcpStream::connect(app).ok()
    });

    // Prometheus, scraping it every second.
    let prometheus = free_addr();
    let config = scratch.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: songs\n    static_configs:\n      - targets: ['{app}']\n"
        ),
    )
    .unwrap();
    let _prometheus = Running::spawn(
        "prometheus",
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                scratch.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prometheus}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_until("prometheus to be ready", Duration::from_secs(30), || {
        TcpStream::connect(prometheus)
            .ok()
            .filter(|_| http(prometheus, "GET", "/-/ready", &[], "").0 == 200)
    });

    // Traffic: ok, 404, 5xx, and one request continuing a caller's trace.
    let json = [("content-type", "application/json")];
    let traceparent = format!("00-{INCOMING_TRACE}-{INCOMING_PARENT}-01");
    let traced = [
        ("content-type", "application/json"),
        ("traceparent", traceparent.as_str()),
    ];
    assert_eq!(
        http(
            app,
            "POST",
            "/songs",
            &traced,
            r#"{"title":"Blue","artist":"Joni"}"#
        )
        .0,
        201
    );
    for title in ["Hejira", "Amelia", "Coyote", "Refuge"] {
        let body = format!(r#"{{"title":"{title}","artist":"Joni"}}"#);
        assert_eq!(http(app, "POST", "/songs", &json, &body).0, 201);
    }
    for _ in 0..2 {
        assert_eq!(
            http(
                app,
                "POST",
                "/songs",
                &json,
                r#"{"title":"crash","artist":"x"}"#
            )
            .0,
            500
        );
    }
    for id in [1, 2, 3] {
        assert_eq!(http(app, "GET", &format!("/songs/{id}"), &[], "").0, 200);
    }
    for id in [404, 405, 406, 407] {
        assert_eq!(http(app, "GET", &format!("/songs/{id}"), &[], "").0, 404);
    }

    // The exposition passes promtool's lint.
    let (status, exposition) = http(app, "GET", "/metrics", &[], "");
    assert_eq!(status, 200);
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (scripts/install-deps.sh installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let lint = promtool.wait_with_output().unwrap();
    assert!(
        lint.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    // Prometheus holds the exact counts, labelled as designed.
    let requests = expect(&[
        (&["/songs", "POST", "201"], 5.0),
        (&["/songs", "POST", "500"], 2.0),
        (&["/songs/{id}", "GET", "200"], 3.0),
        (&["/songs/{id}", "GET", "404"], 4.0),
        (&["/vendors/{vendor}/offers", "GET", "200"], 10.0),
    ]);
    let request_query = r#"sum by (http_route, http_request_method, http_response_status_code) (http_server_request_duration_seconds_count{http_route!="/metrics"})"#;
    let by = [
        "http_route",
        "http_request_method",
        "http_response_status_code",
    ];
    let got = wait_until(
        "prometheus to scrape the final counts",
        Duration::from_secs(30),
        || {
            let got = promql(prometheus, request_query, &by);
            (got == requests).then_some(got)
        },
    );
    eprintln!("PromQL {request_query}\n  => {got:?}");

    let db_query = r#"sum by (event_table, event_type, result) (db_event_total)"#;
    let db = promql(
        prometheus,
        db_query,
        &["event_table", "event_type", "result"],
    );
    eprintln!("PromQL {db_query}\n  => {db:?}");
    assert_eq!(
        db,
        expect(&[
            (&["songs", "song_created", "ok"], 5.0),
            (&["songs", "song_created", "error"], 2.0),
            (&["songs", "select", "ok"], 7.0),
        ])
    );
    let histogram_query = r#"sum(db_event_duration_seconds_count)"#;
    let histogram = promql(prometheus, histogram_query, &[]);
    eprintln!("PromQL {histogram_query}\n  => {histogram:?}");
    assert_eq!(
        histogram,
        expect(&[(&[], 14.0)]),
        "histogram counts equal the counters"
    );
    let p99 = promql(
        prometheus,
        r#"histogram_quantile(0.99, sum by (le) (http_server_request_duration_seconds_bucket{http_route="/songs"}))"#,
        &[],
    );
    eprintln!("PromQL p99 of POST /songs: {p99:?}");

    // Stop the service: it flushes logs and exports what is pending.
    songs.terminate(Duration::from_secs(20));

    // The continued trace: server span → db client span, with the caller's trace id.
    receiver.wait_for_spans(1, Duration::from_secs(5));
    let spans = receiver.spans();
    let in_trace: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.trace_id == INCOMING_TRACE)
        .collect();
    let server = in_trace
        .iter()
        .find(|s| s.kind == "server" && s.parent_span_id == INCOMING_PARENT)
        .unwrap_or_else(|| panic!("no server span continuing the caller's trace in {in_trace:#?}"));
    let db = in_trace
        .iter()
        .find(|s| s.name == "save_event" && s.parent_span_id == server.span_id)
        .expect("the db span under the server span");
    assert_eq!(db.kind, "client");
    eprintln!(
        "trace {INCOMING_TRACE}: {} {} -> {} {}",
        server.name, server.span_id, db.name, db.span_id
    );

    // The vendor look-ups are their own traces, linked to the request that spawned them.
    let lookups: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| {
            s.name == "songs.vendor_lookup"
                && s.links.iter().any(|(_, span)| *span == server.span_id)
        })
        .collect();
    assert_eq!(lookups.len(), 2, "two vendors per song");
    for lookup in &lookups {
        assert!(lookup.parent_span_id.is_empty());
        assert_ne!(lookup.trace_id, INCOMING_TRACE);
        assert_eq!(
            lookup.links,
            vec![(INCOMING_TRACE.to_owned(), server.span_id.clone())]
        );
        // The outgoing call carried traceparent: the vendor route's server span joined the look-up's trace.
        assert!(
            spans
                .iter()
                .any(|s| s.trace_id == lookup.trace_id && s.kind == "server"),
            "vendor server span in {}",
            lookup.trace_id
        );
    }

    // The log lines of that request carry the exported ids.
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let db_lines: Vec<Vec<(String, String)>> = logs
        .lines()
        .map(|l| parse_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|l| l.iter().any(|(k, v)| k == "span" && *v == db.span_id))
        .collect();
    assert!(
        db_lines.len() >= 2,
        "new_span and close_span lines for the db span"
    );
    for line in &db_lines {
        assert!(
            line.iter()
                .any(|(k, v)| k == "trace_id" && v == INCOMING_TRACE),
            "{line:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
