//! Traffic of every kind through the service, scraped by a real Prometheus server (with
//! exemplar storage on: it negotiates OpenMetrics and keeps the exemplars) and linted by
//! `promtool`; the OpenMetrics exposition passes a strict parser; the traces reach a real
//! OTLP receiver.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use observe_testkit::openmetrics::parse_strict;
use observe_testkit::otlp::{ReceivedSpan, Receiver};

use crate::exemplars::query_exemplars;
use crate::prometheus_server::Prometheus;
use crate::support::{Line, Running, Scratch, free_addr, http, log_lines, songs, wait_until};
use crate::traffic::{self, INCOMING_PARENT, INCOMING_TRACE};

fn expect(entries: &[(&[&str], f64)]) -> BTreeMap<Vec<String>, f64> {
    entries
        .iter()
        .map(|(k, v)| (k.iter().map(|s| s.to_string()).collect(), *v))
        .collect()
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs Debian's prometheus package and the built example"]
fn songs_service_end_to_end() {
    let started = Instant::now();
    let scratch = Scratch::new("prometheus");
    let (log_path, log_file) = scratch.file("songs.log");
    let receiver = Receiver::start_grpc();

    // The service.
    let app = free_addr();
    let mut songs = Running::spawn(
        "songs",
        songs()
            .args(["--addr", &app.to_string()])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .env("OTEL_SERVICE_NAME", "songs")
            .stdout(log_file)
            .stderr(Stdio::inherit()),
    );
    wait_until("songs to listen", Duration::from_secs(30), || {
        TcpStream::connect(app).ok()
    });

    // Prometheus, scraping it every second.
    let prometheus = Prometheus::start(
        &scratch,
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: songs\n    static_configs:\n      - targets: ['{app}']\n"
        ),
        &["--enable-feature=exemplar-storage"],
    );

    traffic::mixed(app);

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
    // promtool does not lint OpenMetrics: the exposition Prometheus is served goes through
    // the reference parser instead.
    let (status, openmetrics) = http(
        app,
        "GET",
        "/metrics",
        &[("accept", "application/openmetrics-text; version=1.0.0")],
        "",
    );
    assert_eq!(status, 200);
    assert!(
        openmetrics.contains("db_event_duration_seconds_bucket{")
            && openmetrics.contains(" # {trace_id=\""),
        "OpenMetrics with exemplars:\n{openmetrics}"
    );
    if let Err(error) = parse_strict(&openmetrics) {
        panic!("the OpenMetrics exposition is invalid: {error}\n{openmetrics}");
    }

    // Prometheus holds the exact counts, labelled as designed.
    let requests: BTreeMap<Vec<String>, f64> = traffic::REQUESTS
        .iter()
        .map(|(route, method, status, n)| {
            let key = [route, method, status].map(|s| s.to_string()).to_vec();
            (key, *n as f64)
        })
        .collect();
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
            let got = prometheus.query(request_query, &by);
            (got == requests).then_some(got)
        },
    );
    eprintln!("PromQL {request_query}\n  => {got:?}");

    let db_query = r#"sum by (event_table, event_type, result) (db_event_total)"#;
    let db = prometheus.query(db_query, &["event_table", "event_type", "result"]);
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
    let histogram = prometheus.query(histogram_query, &[]);
    eprintln!("PromQL {histogram_query}\n  => {histogram:?}");
    assert_eq!(
        histogram,
        expect(&[(&[], 14.0)]),
        "histogram counts equal the counters"
    );
    // The process's CPU time, which moves by hundredths of a second, not whole ones.
    let cpu_query = r#"process_cpu_seconds_total{job="songs"}"#;
    let cpu = prometheus.query(cpu_query, &[]);
    eprintln!("PromQL {cpu_query}\n  => {cpu:?}");
    assert!(
        cpu.get(&Vec::new()).is_some_and(|seconds| *seconds > 0.0),
        "{cpu:?}"
    );
    // build_info joins every series with the build: the example's crate version.
    let build = prometheus.query(
        r#"build_info{job="songs", service_name="songs"}"#,
        &["version"],
    );
    eprintln!("PromQL build_info\n  => {build:?}");
    assert_eq!(
        build,
        expect(&[(&[env!("CARGO_PKG_VERSION")], 1.0)]),
        "build_info carries the version"
    );
    let p99 = prometheus.query(
        r#"histogram_quantile(0.99, sum by (le) (http_server_request_duration_seconds_bucket{http_route="/songs"}))"#,
        &[],
    );
    eprintln!("PromQL p99 of POST /songs: {p99:?}");

    // The exemplars Prometheus stored from those scrapes.
    let exemplars = query_exemplars(
        prometheus.addr,
        "db_event_duration_seconds_bucket",
        started.elapsed() + Duration::from_secs(60),
    );
    assert!(
        !exemplars.is_empty(),
        "Prometheus stored no exemplar of db_event_duration_seconds_bucket: did it scrape OpenMetrics?"
    );

    // Stop the service: it flushes logs and exports what is pending.
    let status = songs.terminate(Duration::from_secs(20));
    assert!(status.success(), "songs exited with {status}");

    // The continued trace: server span → the handler's span → db client span, with the
    // caller's trace id.
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
    let handler = in_trace
        .iter()
        .find(|s| s.name == "create_song" && s.parent_span_id == server.span_id)
        .expect("the handler's span under the server span");
    assert_eq!(handler.kind, "internal");
    let db = in_trace
        .iter()
        .find(|s| s.name == "save_event" && s.parent_span_id == handler.span_id)
        .expect("the db span under the handler's span");
    assert_eq!(db.kind, "client");
    eprintln!(
        "trace {INCOMING_TRACE}: {} {} -> {} {} -> {} {}",
        server.name, server.span_id, handler.name, handler.span_id, db.name, db.span_id
    );

    // The vendor look-ups are their own traces, linked to the handler that spawned them.
    let lookups: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| {
            s.name == "songs.vendor_lookup"
                && s.links.iter().any(|(_, span)| *span == handler.span_id)
        })
        .collect();
    assert_eq!(lookups.len(), 2, "two vendors per song");
    for lookup in &lookups {
        assert!(lookup.parent_span_id.is_empty());
        assert_ne!(lookup.trace_id, INCOMING_TRACE);
        assert_eq!(
            lookup.links,
            vec![(INCOMING_TRACE.to_owned(), handler.span_id.clone())]
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
    let lines = log_lines(&log_path);
    let db_lines: Vec<&Line> = lines.iter().filter(|l| l.is("span", &db.span_id)).collect();
    assert!(
        db_lines.len() >= 2,
        "new_span and close_span lines for the db span"
    );
    for line in &db_lines {
        assert!(line.is("trace_id", INCOMING_TRACE), "{:?}", line.0);
    }

    // Each exemplar Prometheus stored is a `db_event` call of songs' log lines: its trace,
    // and its span.
    for exemplar in &exemplars {
        assert_eq!(
            exemplar.series["__name__"], "db_event_duration_seconds_bucket",
            "{exemplar:?}"
        );
        assert!(
            lines.iter().any(|l| l.is("trace_id", &exemplar.trace_id)),
            "exemplar trace {} on no log line ({exemplar:?})",
            exemplar.trace_id
        );
        assert!(
            lines.iter().any(|l| l.is("span", &exemplar.span_id)
                && l.is("trace_id", &exemplar.trace_id)
                && l.is("metric_name", "db_event")),
            "exemplar span {} is no db_event span of the log lines ({exemplar:?})",
            exemplar.span_id
        );
    }
    eprintln!(
        "REPORT Prometheus stored {} exemplars of db_event_duration_seconds_bucket, each a db_event span of the log lines",
        exemplars.len()
    );
}
