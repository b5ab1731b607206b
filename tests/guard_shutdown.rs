//! Dropping the guard delivers pending spans and every log line, whatever runs the program:
//! a multi-thread tokio runtime, a current-thread one (where naive shutdown dead-locks),
//! or none. Each case is a child process, because `init` is once per process; the parent
//! runs the OTLP receiver and reads the child's stdout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use observe_testkit::otlp::Receiver;

const SPANS: usize = 1_000;
const CHILD_ENV: &str = "OBSERVE_TEST_CHILD_FLAVOUR";

fn run_child(flavour: &str) {
    let receiver = Receiver::start_grpc();
    let started = Instant::now();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, flavour)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_SERVICE_NAME", format!("shutdown-{flavour}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{flavour}: child failed\n{stderr}");
    // Bounded: a dead-locked shutdown would hang until the harness kills it.
    assert!(
        elapsed < Duration::from_secs(60),
        "{flavour}: took {elapsed:?}"
    );

    let stdout = String::from_utf8(output.stdout).unwrap();
    let closes = stdout
        .lines()
        .filter(|l| l.contains("span_event=close_span"))
        .count();
    assert_eq!(closes, SPANS, "{flavour}: every close line reached stdout");
    let events = stdout.lines().filter(|l| l.contains("msg=tick")).count();
    assert_eq!(events, SPANS, "{flavour}: every event line reached stdout");

    // Everything was handed to the exporter before the guard returned.
    let spans = receiver.spans();
    assert_eq!(
        spans.len(),
        SPANS,
        "{flavour}: every span exported by the time the child exited"
    );
    assert!(
        spans
            .iter()
            .all(|s| s.resource.get("service.name") == Some(&format!("shutdown-{flavour}")))
    );
}

#[test]
fn guard_flushes_on_a_multi_thread_runtime() {
    run_child("multi_thread");
}

#[test]
fn guard_flushes_on_a_current_thread_runtime() {
    run_child("current_thread");
}

#[test]
fn guard_flushes_without_a_runtime() {
    run_child("none");
}

fn work() {
    for i in 0..SPANS {
        tracing::info_span!("unit", metric_name = "unit", i).in_scope(|| tracing::info!("tick"));
    }
}

/// The child side of the tests above; it does nothing useful when run on its own, so it is
/// ignored unless a parent test starts it.
#[test]
#[ignore = "started as a child process by the guard_flushes_* tests"]
fn child_process() {
    let flavour = std::env::var(CHILD_ENV).expect("run by a parent test");
    match flavour.as_str() {
        "multi_thread" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let guard = observe::runtime::init().unwrap();
                tokio::spawn(async { work() }).await.unwrap();
                drop(guard);
            }),
        "current_thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let guard = observe::runtime::init().unwrap();
                work();
                drop(guard);
            }),
        "none" => {
            let guard = observe::runtime::init().unwrap();
            work();
            drop(guard);
        }
        other => panic!("unknown flavour {other}"),
    }
}
