//! `--demo`: it runs whatever holds 127.0.0.1:3000, and its summary says what it counts.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Line, Running, Scratch, log_lines, songs};

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
}
