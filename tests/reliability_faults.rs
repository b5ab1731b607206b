//! Reliability under faults: a collector that is down or stalls, shutdown with many pending
//! spans on every runtime flavour, process exit, panics in user code, and unusual span
//! lifecycles. Each scenario runs `init` in a child process (an `#[ignore]`d `child_*` test
//! of this binary that does nothing unless its parent started it).

mod reliability_common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use observe::runtime::config::Config;
use observe::runtime::log::writer::MemorySink;
use observe::{observe, observe_async};
use observe_testkit::logfmt::parse_lines;
use observe_testkit::otlp::{Receiver, Transport};
use reliability_common::*;

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is set by the parent"))
}

fn transport(name: &str) -> Transport {
    match name {
        "grpc" => Transport::Grpc,
        _ => Transport::HttpProtobuf,
    }
}

fn lines_of(sink: &MemorySink) -> Vec<Vec<(String, String)>> {
    parse_lines(&String::from_utf8(sink.contents()).unwrap()).expect("every line parses")
}

fn value<'a>(line: &'a [(String, String)], key: &str) -> Option<&'a str> {
    line.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------
// Collector down at start.
// ---------------------------------------------------------------------------------------

/// No observed call may take this long while the collector is unreachable.
const CALL_BOUND: Duration = Duration::from_millis(50);

#[observe(metric = "fault_op")]
fn fault_op(phase: &'static str) {
    tracing::info!(phase, "working");
}

fn timed_calls(phase: &'static str, n: usize, pause: Duration) -> Duration {
    let mut max = Duration::ZERO;
    for _ in 0..n {
        let t = Instant::now();
        fault_op(phase);
        max = max.max(t.elapsed());
        std::thread::sleep(pause);
    }
    max
}

#[test]
#[ignore = "child process of collector_down_at_start_*"]
fn child_collector_down() {
    if !is_child("child_collector_down") {
        return;
    }
    let protocol = env("PROTOCOL");
    let addr = free_port(); // nothing listens there
    let logs = MemorySink::default();
    let started = Instant::now();
    let guard = Config::new()
        .log_writer(logs.clone())
        .otlp_endpoint(format!("http://{addr}"))
        .otlp_protocol(match protocol.as_str() {
            "grpc" => observe::runtime::config::Protocol::Grpc,
            _ => observe::runtime::config::Protocol::HttpProtobuf,
        })
        .init()
        .expect("init succeeds with the collector down");
    let init_time = started.elapsed();

    // Several export attempts fail while these run (OTEL_BSP_SCHEDULE_DELAY=100 ms).
    let down_max = timed_calls("down", 200, Duration::from_millis(5));

    let receiver = Receiver::start_on(transport(&protocol), addr).expect("rebind the address");
    let up_max = timed_calls("up", 200, Duration::from_millis(1));
    // Delivered by the periodic export, not by the shutdown flush.
    let deadline = Instant::now() + Duration::from_secs(30);
    let up = |r: &Receiver| {
        r.spans()
            .iter()
            .filter(|s| s.attributes.get("phase").map(String::as_str) == Some("up"))
            .count()
    };
    while up(&receiver) < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let arrived_after = started.elapsed();
    let up_before_shutdown = up(&receiver);
    let exposition = guard.metrics_text();
    drop(guard);

    report("init_ms", init_time.as_millis());
    report("max_call_down_us", down_max.as_micros());
    report("max_call_up_us", up_max.as_micros());
    report("up_spans_before_shutdown", up_before_shutdown);
    report("first_run_to_delivery_ms", arrived_after.as_millis());
    assert!(
        init_time < Duration::from_secs(1),
        "init took {init_time:?}"
    );
    assert!(
        down_max < CALL_BOUND,
        "a call took {down_max:?} (collector down)"
    );
    assert!(up_max < CALL_BOUND, "a call took {up_max:?}");
    assert_eq!(
        up_before_shutdown, 200,
        "later spans arrive once the collector is up"
    );
    assert_eq!(
        sample(&exposition, r#"fault_op_total{result="ok"}"#),
        Some(400.0)
    );
    // The app's lines, all of them; and the export failure said once, its end once.
    let lines = lines_of(&logs);
    let (export, app): (Vec<_>, Vec<_>) = lines
        .iter()
        .partition(|l| value(l, "target") == Some("observe_runtime::export"));
    assert_eq!(app.len(), 400 * 3);
    assert_eq!(export.len(), 2, "{export:#?}");
    assert_eq!(value(export[0], "level"), Some("warn"));
    assert!(value(export[0], "msg").unwrap().contains(&addr.to_string()));
    assert_eq!(value(export[1], "level"), Some("info"));
    assert!(value(export[1], "msg").unwrap().contains("works again"));
    assert!(
        sample(
            &exposition,
            r#"observe_exports_failed_total{signal="traces"}"#
        ) >= Some(1.0)
    );
}

fn collector_down(protocol: &str) {
    let (output, elapsed) = run_child(
        "child_collector_down",
        &[
            ("PROTOCOL", protocol.to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000".into()),
        ],
        Duration::from_secs(120),
    );
    assert_success("child_collector_down", &output);
    eprintln!(
        "collector down ({protocol}): {:?} in {elapsed:?}",
        reports(&output)
    );
}

#[test]
fn collector_down_at_start_http() {
    collector_down("http");
}

#[test]
fn collector_down_at_start_grpc() {
    collector_down("grpc");
}

// ---------------------------------------------------------------------------------------
// Collector stalls: accepts connections and never answers.
// ---------------------------------------------------------------------------------------

/// What the guard may take to shut down with a stalled collector: the export times out after
/// `OTEL_EXPORTER_OTLP_TIMEOUT` (300 ms here), well before the guard's own 5 s limit.
const STALLED_SHUTDOWN_BOUND: Duration = Duration::from_secs(3);

#[test]
#[ignore = "child process of collector_stalls_*"]
fn child_collector_stalls() {
    if !is_child("child_collector_stalls") {
        return;
    }
    let protocol = env("PROTOCOL");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    {
        let (connections, bytes) = (connections.clone(), bytes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                connections.fetch_add(1, Ordering::SeqCst);
                let bytes = bytes.clone();
                // Read what the exporter sends, answer nothing, keep the socket open.
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        bytes.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_secs(3600));
                });
            }
        });
    }
    let logs = MemorySink::default();
    let guard = Config::new()
        .log_writer(logs.clone())
        .otlp_endpoint(format!("http://{addr}"))
        .otlp_protocol(match protocol.as_str() {
            "grpc" => observe::runtime::config::Protocol::Grpc,
            _ => observe::runtime::config::Protocol::HttpProtobuf,
        })
        .init()
        .expect("init");
    // ~2 s of calls while exports hang: ten or so export attempts.
    let max = timed_calls("stalled", 1_000, Duration::from_millis(2));
    let shutdown = Instant::now();
    drop(guard);
    let shutdown = shutdown.elapsed();

    report("max_call_us", max.as_micros());
    report("shutdown_ms", shutdown.as_millis());
    report("connections", connections.load(Ordering::SeqCst));
    report("bytes_sent_to_collector", bytes.load(Ordering::SeqCst));
    assert!(max < CALL_BOUND, "a call took {max:?} (collector stalled)");
    assert!(
        bytes.load(Ordering::SeqCst) > 0,
        "the exporter did send to the stalled collector"
    );
    assert!(
        shutdown < STALLED_SHUTDOWN_BOUND,
        "dropping the guard took {shutdown:?}: the export did not time out"
    );
    let lines = lines_of(&logs);
    let warned = lines
        .iter()
        .any(|l| value(l, "msg") == Some("pending spans were not all exported"));
    assert!(warned, "the failed final export is reported in the log");
}

fn collector_stalls(protocol: &str) {
    let (output, elapsed) = run_child(
        "child_collector_stalls",
        &[
            ("PROTOCOL", protocol.to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "300".into()),
        ],
        Duration::from_secs(120),
    );
    assert_success("child_collector_stalls", &output);
    eprintln!(
        "collector stalls ({protocol}): {:?} in {elapsed:?}",
        reports(&output)
    );
}

#[test]
fn collector_stalls_http() {
    collector_stalls("http");
}

#[test]
fn collector_stalls_grpc() {
    collector_stalls("grpc");
}

// ---------------------------------------------------------------------------------------
// Shutdown with 10,000 pending spans, on every runtime flavour.
// ---------------------------------------------------------------------------------------

const PENDING_SPANS: usize = 10_000;

fn make_spans() {
    for i in 0..PENDING_SPANS {
        tracing::info_span!("pending", i).in_scope(|| {});
    }
}

#[test]
#[ignore = "child process of shutdown_delivers_10000_pending_spans_*"]
fn child_pending_spans() {
    if !is_child("child_pending_spans") {
        return;
    }
    let flavour = env("FLAVOUR");
    let run = || {
        let guard = Config::new()
            .log_writer(std::io::sink())
            .init()
            .expect("init");
        make_spans();
        let t = Instant::now();
        drop(guard);
        report("drop_ms", t.elapsed().as_millis());
    };
    match flavour.as_str() {
        "multi_thread" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { tokio::spawn(async move { run() }).await.unwrap() }),
        "current_thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { run() }),
        "none" => run(),
        other => panic!("unknown flavour {other}"),
    }
}

fn pending_spans(flavour: &str, protocol: &str) {
    let receiver = Receiver::start(transport(protocol));
    let (output, elapsed) = run_child(
        "child_pending_spans",
        &[
            ("FLAVOUR", flavour.to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
            (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                if protocol == "grpc" {
                    "grpc"
                } else {
                    "http/protobuf"
                }
                .into(),
            ),
        ],
        Duration::from_secs(60),
    );
    assert_success("child_pending_spans", &output);
    let spans = receiver.spans();
    let mut seen: Vec<bool> = vec![false; PENDING_SPANS];
    for span in &spans {
        let i: usize = span.attributes["i"].parse().unwrap();
        seen[i] = true;
    }
    let missing = seen.iter().filter(|s| !**s).count();
    eprintln!(
        "pending spans ({flavour}, {protocol}): received {} distinct {}, child {elapsed:?}, {:?}",
        spans.len(),
        PENDING_SPANS - missing,
        reports(&output)
    );
    assert_eq!(
        missing, 0,
        "{flavour}/{protocol}: {missing} of {PENDING_SPANS} finished spans never reached the collector"
    );
    assert_eq!(spans.len(), PENDING_SPANS, "no duplicates");
}

#[test]
fn shutdown_delivers_10000_pending_spans_multi_thread() {
    pending_spans("multi_thread", "grpc");
    pending_spans("multi_thread", "http");
}

#[test]
fn shutdown_delivers_10000_pending_spans_current_thread() {
    pending_spans("current_thread", "grpc");
    pending_spans("current_thread", "http");
}

#[test]
fn shutdown_delivers_10000_pending_spans_no_runtime() {
    pending_spans("none", "grpc");
    pending_spans("none", "http");
}

// ---------------------------------------------------------------------------------------
// Exit: every line reaches stdout when main returns.
// ---------------------------------------------------------------------------------------

const EXIT_LINES: usize = 100_000;

#[test]
#[ignore = "child process of all_lines_reach_stdout_when_main_returns"]
fn child_exit() {
    if !is_child("child_exit") {
        return;
    }
    // As in a service's main: the guard lives to the end of the function.
    let _guard = observe::runtime::init().expect("init");
    for n in 0..EXIT_LINES {
        tracing::info!(n, "line");
    }
}

#[test]
fn all_lines_reach_stdout_when_main_returns() {
    let (output, elapsed) = run_child(
        "child_exit",
        &[("OBSERVE_LOG_LOSSY", "false".into())],
        Duration::from_secs(120),
    );
    assert_success("child_exit", &output);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut seen = vec![false; EXIT_LINES];
    let mut count = 0;
    // libtest prints `test child_exit ... ` before the test runs, on the first line.
    for line in stdout
        .lines()
        .filter_map(|l| l.find("level=").map(|i| &l[i..]))
    {
        let pairs = observe_testkit::logfmt::parse_line(line).expect("strict logfmt");
        assert_eq!(value(&pairs, "msg"), Some("line"), "{line}");
        let n: usize = value(&pairs, "n").unwrap().parse().unwrap();
        assert!(!seen[n], "line {n} twice");
        seen[n] = true;
        count += 1;
    }
    eprintln!("exit: {count} lines in {elapsed:?}");
    assert_eq!(count, EXIT_LINES, "every line reached stdout");
}

// ---------------------------------------------------------------------------------------
// Panics in user code inside observed spans.
// ---------------------------------------------------------------------------------------

#[observe(metric = "panicky", labels(path = "sync"), err)]
fn panicky(fail: bool) -> Result<u32, String> {
    nested(fail);
    Ok(1)
}

#[observe(metric = "panicky_nested")]
fn nested(fail: bool) {
    tracing::info!("nested running");
    if fail {
        panic!("user code panicked");
    }
}

#[observe(metric = "panicky", labels(path = "async"), err)]
async fn panicky_async(fail: bool) -> Result<u32, String> {
    tokio::task::yield_now().await;
    tracing::info!("async running");
    if fail {
        panic!("async user code panicked");
    }
    Ok(2)
}

#[test]
#[ignore = "child process of panics_in_user_code_leave_the_pipeline_working"]
fn child_panics() {
    if !is_child("child_panics") {
        return;
    }
    silence_panics(&["user code panicked", "task panicked"]);
    let receiver = Receiver::start_http();
    let logs = MemorySink::default();
    let guard = Config::new()
        .log_writer(logs.clone())
        .otlp_endpoint(receiver.endpoint())
        .init()
        .expect("init");

    for round in 0..10 {
        let fail = round % 2 == 0;
        // Sync, nested two deep.
        let r = std::panic::catch_unwind(|| panicky(fail));
        assert_eq!(r.is_err(), fail);
        // Async, on both runtime flavours, spawned (tokio catches the panic) ...
        for multi in [false, true] {
            let rt = if multi {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            }
            .unwrap();
            rt.block_on(async {
                let joined = tokio::spawn(panicky_async(fail)).await;
                assert_eq!(joined.as_ref().is_err_and(|e| e.is_panic()), fail);
                // ... and through observe_async!.
                let joined = tokio::spawn(observe_async!(
                    "panicky.task",
                    async move {
                        tokio::task::yield_now().await;
                        if fail {
                            panic!("task panicked");
                        }
                    },
                    metric = "panicky_task",
                ))
                .await;
                assert_eq!(joined.is_err(), fail);
            });
        }
    }
    // The pipeline still works after all that.
    assert_eq!(panicky(false), Ok(1));
    let exposition = guard.metrics_text();
    drop(guard);

    let expect = |series: &str, n: f64| {
        assert_eq!(
            sample(&exposition, series),
            Some(n),
            "{series}\n{exposition}"
        );
    };
    expect(r#"panicky_total{path="sync",result="error"}"#, 5.0);
    expect(r#"panicky_total{path="sync",result="ok"}"#, 6.0);
    expect(r#"panicky_nested_total{result="error"}"#, 5.0);
    expect(r#"panicky_nested_total{result="ok"}"#, 6.0);
    expect(r#"panicky_total{path="async",result="error"}"#, 10.0);
    expect(r#"panicky_total{path="async",result="ok"}"#, 10.0);
    expect(r#"panicky_task_total{result="error"}"#, 10.0);
    expect(r#"panicky_task_total{result="ok"}"#, 10.0);
    expect(
        r#"panicky_duration_seconds_count{path="async",result="error"}"#,
        10.0,
    );

    let lines = lines_of(&logs);
    let closes = |name: &str| {
        lines
            .iter()
            .filter(|l| value(l, "span_name") == Some(name))
            .filter(|l| value(l, "span_event") == Some("close_span"))
            .count()
    };
    assert_eq!(closes("panicky"), 11);
    assert_eq!(closes("panicky_async"), 20);
    assert_eq!(closes("nested"), 11);
    assert_eq!(closes("panicky.task"), 20);

    let spans = receiver.wait_for_spans(11 + 11 + 20 + 20, Duration::from_secs(10));
    let errors = |name: &str| {
        spans
            .iter()
            .filter(|s| s.name == name && s.status == "error")
            .count()
    };
    assert_eq!(errors("panicky"), 5);
    assert_eq!(errors("panicky_async"), 10);
    assert_eq!(errors("nested"), 5);
    assert_eq!(errors("panicky.task"), 10);
}

#[test]
fn panics_in_user_code_leave_the_pipeline_working() {
    let (output, _) = run_child("child_panics", &[], Duration::from_secs(120));
    assert_success("child_panics", &output);
}

/// A value whose `Debug` panics: user code that runs inside the layers, when the span
/// records its arguments.
struct Hostile;

impl std::fmt::Debug for Hostile {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug of an argument panicked")
    }
}

#[observe(metric = "hostile_arg")]
fn hostile_arg(value: &Hostile) -> u32 {
    let _ = value;
    1
}

#[test]
#[ignore = "child process of a_panicking_debug_argument_does_not_break_the_pipeline"]
fn child_panicking_debug() {
    if !is_child("child_panicking_debug") {
        return;
    }
    silence_panics(&["Debug of an argument panicked"]);
    let logs = MemorySink::default();
    let guard = Config::new().log_writer(logs.clone()).init().expect("init");
    let panicked = std::panic::catch_unwind(|| hostile_arg(&Hostile)).is_err();
    report("call_panicked", panicked);
    // Later calls, and other spans, must still work.
    for _ in 0..3 {
        fault_op("after");
    }
    let exposition = guard.metrics_text();
    drop(guard);
    assert_eq!(
        sample(&exposition, r#"fault_op_total{result="ok"}"#),
        Some(3.0),
        "{exposition}"
    );
    let lines = lines_of(&logs);
    assert_eq!(
        lines
            .iter()
            .filter(|l| value(l, "msg") == Some("working"))
            .count(),
        3
    );
}

#[test]
fn a_panicking_debug_argument_does_not_break_the_pipeline() {
    let (output, _) = run_child("child_panicking_debug", &[], Duration::from_secs(60));
    eprintln!("{:?}", reports(&output));
    assert_success("child_panicking_debug", &output);
}

// ---------------------------------------------------------------------------------------
// Unusual span lifecycles.
// ---------------------------------------------------------------------------------------

#[observe(metric = "deep")]
fn deep(remaining: u32) -> u32 {
    tracing::info!("down");
    if remaining == 0 {
        0
    } else {
        deep(remaining - 1) + 1
    }
}

macro_rules! wide_span {
    ($($f:ident),*) => {
        tracing::info_span!("wide", metric_name = "wide", $($f = stringify!($f)),*)
    };
}

macro_rules! wide_event {
    ($($f:ident),*) => {
        tracing::info!($($f = stringify!($f)),*)
    };
}

#[test]
#[ignore = "child process of unusual_span_lifecycles_never_panic_a_layer"]
fn child_lifecycles() {
    if !is_child("child_lifecycles") {
        return;
    }
    let receiver = Receiver::start_http();
    let logs = MemorySink::default();
    let guard = Config::new()
        .log_writer(logs.clone())
        .otlp_endpoint(receiver.endpoint())
        .init()
        .expect("init");
    let mut exported = 0;

    // 1. Created and entered on one thread, closed on another, while its parent is open.
    let parent = tracing::info_span!("cross_parent", metric_name = "cross_parent");
    let child = parent.in_scope(|| tracing::info_span!("cross", metric_name = "cross"));
    child.in_scope(|| tracing::info!("on the first thread"));
    std::thread::spawn(move || {
        child.in_scope(|| tracing::info!("on the second thread"));
        drop(child);
    })
    .join()
    .unwrap();
    // Entered on two threads at once.
    let shared = tracing::info_span!("shared", metric_name = "shared");
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (span, barrier) = (shared.clone(), barrier.clone());
            std::thread::spawn(move || {
                let _e = span.enter();
                barrier.wait();
                tracing::info!("inside on two threads");
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    drop((parent, shared));
    exported += 3;

    // 2. Span::record after exit, and of a field it does not have.
    let late = tracing::info_span!(
        "late",
        metric_name = "late",
        observe.result = tracing::field::Empty,
        note = tracing::field::Empty
    );
    late.in_scope(|| {});
    late.record("note", "recorded after exit");
    late.record("no_such_field", 1);
    late.record("observe.result", "error");
    late.in_scope(|| tracing::info!("back in"));
    drop(late);
    exported += 1;

    // 3. Entered twice (re-entrantly) on one thread, then exited in the wrong order.
    let twice = tracing::info_span!("twice", metric_name = "twice");
    {
        let a = twice.enter();
        let b = twice.enter();
        tracing::info!("entered twice");
        drop(a);
        tracing::info!("one exit left");
        drop(b);
    }
    drop(twice);
    exported += 1;

    // 4. The maximum number of fields on a span (32 with metric_name) and on an event (32).
    let wide = wide_span!(
        f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, f13, f14, f15, f16, f17, f18,
        f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31
    );
    wide.in_scope(|| {
        wide_event!(
            e01, e02, e03, e04, e05, e06, e07, e08, e09, e10, e11, e12, e13, e14, e15, e16, e17,
            e18, e19, e20, e21, e22, e23, e24, e25, e26, e27, e28, e29, e30, e31, e32
        );
    });
    drop(wide);
    exported += 1;

    // 5. 1,000 levels of nested observed calls (on a thread with room for them).
    let depth = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| deep(999))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(depth, 999);
    exported += 1000;

    let exposition = guard.metrics_text();
    let spans = receiver.wait_for_spans(exported, Duration::from_secs(20));
    drop(guard);

    for (series, n) in [
        (r#"cross_total{result="ok"}"#, 1.0),
        (r#"cross_parent_total{result="ok"}"#, 1.0),
        (r#"shared_total{result="ok"}"#, 1.0),
        (r#"late_total{result="error"}"#, 1.0),
        (r#"twice_total{result="ok"}"#, 1.0),
        (r#"wide_total{result="ok"}"#, 1.0),
        (r#"deep_total{result="ok"}"#, 1000.0),
    ] {
        assert_eq!(
            sample(&exposition, series),
            Some(n),
            "{series}\n{exposition}"
        );
    }
    let lines = lines_of(&logs);
    let find = |msg: &str| {
        lines
            .iter()
            .find(|l| value(l, "msg") == Some(msg))
            .unwrap_or_else(|| panic!("no {msg:?} line"))
    };
    let second = find("on the second thread");
    assert_eq!(
        value(second, "span"),
        value(find("on the first thread"), "span")
    );
    let late_close = lines
        .iter()
        .find(|l| {
            value(l, "span_name") == Some("late") && value(l, "span_event") == Some("close_span")
        })
        .unwrap();
    assert_eq!(value(late_close, "note"), Some("recorded after exit"));
    let wide_event = lines
        .iter()
        .find(|l| value(l, "e32").is_some())
        .expect("the 32-field event");
    for k in ["e01", "e32", "f01", "f31"] {
        assert_eq!(value(wide_event, k), Some(k), "{wide_event:?}");
    }
    // The deepest event carries its own depth (nearest wins among 1,000 ancestors).
    let deepest = lines
        .iter()
        .find(|l| value(l, "msg") == Some("down") && value(l, "remaining") == Some("0"))
        .expect("the deepest event");
    assert_eq!(
        deepest.iter().filter(|(k, _)| k == "remaining").count(),
        1,
        "a key appears once"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| value(l, "span_name") == Some("deep"))
            .count(),
        2000
    );
    report("exported", spans.len());
    assert_eq!(spans.len(), exported, "every span exported");
    let deep_spans: Vec<_> = spans.iter().filter(|s| s.name == "deep").collect();
    let trace = &deep_spans[0].trace_id;
    assert!(deep_spans.iter().all(|s| &s.trace_id == trace), "one trace");
}

#[test]
fn unusual_span_lifecycles_never_panic_a_layer() {
    let (output, _) = run_child("child_lifecycles", &[], Duration::from_secs(120));
    assert_success("child_lifecycles", &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
