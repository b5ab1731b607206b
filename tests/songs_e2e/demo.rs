//! `--demo`: it runs whatever holds 127.0.0.1:3000, its summary says what it counts (the
//! requests, and the failures of `POST /songs` against its objective), and the latency
//! quantiles it reads from the histogram agree with the latencies the same spans logged.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Line, Running, Scratch, log_lines, songs};

/// How far the demo's p50 and p99 may be from the quantiles of the logged latencies.
///
/// `histogram_quantile` interpolates inside the bucket that holds the rank, so it can be off
/// by as much as that bucket's ratio of bounds: with 6 look-ups, p99 lands near the upper
/// bound of the slowest one's bucket. The check holds by construction only for buckets at
/// most 1.5x wide; `DEFAULT_BUCKETS` has 2x and 2.5x ones.
const QUANTILE_FACTOR: f64 = 1.5;

struct Demo {
    /// Its own lines: the requests it sent, then the summary.
    stderr: String,
    /// The service's log lines.
    logs: Vec<Line>,
    _scratch: Scratch,
}

impl Demo {
    /// The rest of the stderr line that starts with `prefix`.
    fn line(&self, prefix: &str) -> &str {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", self.stderr))
    }

    fn closed_spans(&self, keep: impl Fn(&Line) -> bool) -> Vec<&Line> {
        self.logs
            .iter()
            .filter(|l| l.is("span_event", "close_span") && keep(l))
            .collect()
    }
}

fn run_demo(name: &'static str) -> Demo {
    let scratch = Scratch::new(name);
    let (log_path, log_file) = scratch.file("stdout.log");
    let (stderr_path, stderr_file): (PathBuf, _) = scratch.file("stderr.log");
    let mut demo = Running::spawn(
        "songs --demo",
        songs()
            .arg("--demo")
            .stdout(log_file)
            .stderr(stderr_file)
            .stdin(Stdio::null()),
    );
    let status = demo.wait(Duration::from_secs(60));
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.success(), "songs --demo: {status}\n{stderr}");
    eprintln!("{stderr}");
    Demo {
        stderr,
        logs: log_lines(&log_path),
        _scratch: scratch,
    }
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn demo_runs_beside_a_service_on_port_3000_and_says_what_it_counts() {
    // Whoever holds 127.0.0.1:3000 (this test, or a service of the machine), the demo runs.
    let _occupant = TcpListener::bind("127.0.0.1:3000");
    assert!(TcpStream::connect("127.0.0.1:3000").is_ok());
    let demo = run_demo("demo-counts");

    let sent = demo
        .stderr
        .lines()
        .filter(|l| {
            (l.starts_with("POST /songs ") || l.starts_with("GET /songs/")) && l.contains(" -> ")
        })
        .count();
    assert_eq!(sent, 7, "{}", demo.stderr);
    assert_eq!(demo.line("requests sent by the demo: "), "7");

    // The server's count, checked against the server spans it logged.
    let served =
        demo.closed_spans(|l| l.is("otel.kind", "server") && !l.is("http.route", "/metrics"));
    let vendor_calls = served
        .iter()
        .filter(|l| l.is("http.route", "/vendors/{vendor}/offers"))
        .count();
    let server_errors = served
        .iter()
        .filter(|l| {
            l.get("http.response.status_code")
                .is_some_and(|c| c.starts_with('5'))
        })
        .count();
    assert_eq!(
        served.len() - vendor_calls,
        sent,
        "the demo's requests, seen by the server"
    );
    assert_eq!(
        demo.line("requests the server handled: "),
        format!(
            "{} ({sent} from the demo, {vendor_calls} vendor calls it made to itself); {server_errors} answered 5xx",
            served.len()
        )
    );
    assert_eq!((served.len(), vendor_calls, server_errors), (13, 6, 1));

    // The objective of the POST handler, checked against the handler spans it logged.
    let handled = demo.closed_spans(|l| l.is("span_name", "create_song"));
    let failed = handled
        .iter()
        .filter(|l| l.is("observe.result", "error"))
        .count();
    assert_eq!((handled.len(), failed), (4, 1), "the demo's four POSTs");
    assert_eq!(
        demo.line("objective songs_api (99% of POST /songs succeed): "),
        format!(
            "{failed} of {} failed, burning the error budget 25.0x as fast as allowed (see prometheus/README.md)",
            handled.len()
        )
    );
}

/// The value of rank ⌈q·n⌉, the convention `histogram_quantile` interpolates towards.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn demo_quantiles_agree_with_the_logged_latencies() {
    let demo = run_demo("demo-quantiles");
    let summary = demo
        .line("vendor look-up latency (#[observe] histogram function_calls_duration_seconds): ");
    // "p50 1.375 ms  p99 2.477 ms"
    let words: Vec<&str> = summary.split_whitespace().collect();
    let figure = |name: &str| -> f64 {
        let at = words
            .iter()
            .position(|w| *w == name)
            .unwrap_or_else(|| panic!("{name} in {summary}"));
        assert_eq!(words.get(at + 2), Some(&"ms"), "{summary}");
        words[at + 1]
            .parse()
            .unwrap_or_else(|e| panic!("{summary}: {e}"))
    };

    // The same spans, as they logged themselves: the histogram holds every look-up (the
    // demo waits for all of them), so the log must hold as many.
    let mut latencies: Vec<f64> = demo
        .closed_spans(|l| {
            l.is("metric_name", "function_calls") && l.is("metric_label_function", "lookup")
        })
        .iter()
        .map(|l| {
            l.get("latency_ms")
                .expect("latency_ms on a close line")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(
        latencies.len(),
        6,
        "two vendors for each of the 3 songs created"
    );
    latencies.sort_by(f64::total_cmp);

    let mut report = Vec::new();
    let mut off = Vec::new();
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let (reported, truth) = (figure(name), quantile(&latencies, q));
        let factor = (reported / truth).max(truth / reported);
        report.push(format!(
            "{name}: demo {reported:.3} ms, logs {truth:.3} ms, factor {factor:.2}"
        ));
        if factor > QUANTILE_FACTOR {
            off.push(name);
        }
    }
    eprintln!(
        "REPORT vendor look-up latencies (ms) {latencies:?}; {}",
        report.join("; ")
    );
    assert!(
        off.is_empty(),
        "{off:?} more than {QUANTILE_FACTOR}x from the logged latencies {latencies:?}: {}",
        report.join("; ")
    );
}
