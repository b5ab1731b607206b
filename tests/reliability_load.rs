//! Reliability under load: many threads through the whole pipeline with exact accounting,
//! a slow writer in lossy mode, and memory under a runaway label.
//!
//! `init` is once per process, so each scenario runs in a child process (an `#[ignore]`d
//! `child_*` test of this binary, which does nothing unless its parent started it); the
//! parent checks what the child reported. The scenarios are long, so the parents are
//! `#[ignore]`d too and run by `scripts/test.sh` with `--ignored`.
//! Sizes can be scaled down for a quick local run with `OBSERVE_RELIABILITY_SCALE=0.1`.

mod reliability_common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use observe::observe;
use observe::runtime::config::{Config, Sampler};
use observe_testkit::logfmt::parse_line;
use observe_testkit::otlp::Receiver;
use reliability_common::*;

fn scaled(n: u64) -> u64 {
    let scale: f64 = std::env::var("OBSERVE_RELIABILITY_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale) as u64).max(10)
}

fn scale_env() -> Vec<(&'static str, String)> {
    std::env::var("OBSERVE_RELIABILITY_SCALE")
        .map(|s| vec![("OBSERVE_RELIABILITY_SCALE", s)])
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// 8 threads × 100,000 calls, exact accounting.
// ---------------------------------------------------------------------------------------

const THREADS: u64 = 8;
const CALLS_PER_THREAD: u64 = 100_000;

/// Call `i` of a worker: 7 in 10 succeed, 2 return `Err`, 1 panics.
fn kind_of(i: u64) -> &'static str {
    match i % 10 {
        0..=6 => "ok",
        7 | 8 => "err",
        _ => "panic",
    }
}

#[observe(metric = "load_op", labels(worker = worker, kind = kind), err)]
fn load_op(worker: u64, i: u64, kind: &'static str) -> Result<u64, String> {
    tracing::info!(stage = "outer", "op running");
    let n = load_inner(i)?;
    match kind {
        "ok" => Ok(n),
        "err" => Err(format!("call {i} failed")),
        _ => panic!("call {i} panicked"),
    }
}

#[observe]
fn load_inner(i: u64) -> Result<u64, String> {
    tracing::info!(stage = "inner", "inner running");
    Ok(i + 1)
}

/// What the checking writer saw: everything is counted, nothing is kept but the ids of the
/// spans still open and the trace ids of the `load_op` spans.
#[derive(Default)]
struct Tally {
    writes: u64,
    bytes: u64,
    lines: u64,
    /// Writes that did not end in a newline (a partial line).
    partial_writes: u64,
    /// Lines the strict parser rejected, with the first few for the message.
    bad_lines: u64,
    bad_examples: Vec<String>,
    /// `(span_name or msg, span_event or level)` → count.
    kinds: BTreeMap<(String, String), u64>,
    /// span id → (trace id, name) of spans opened and not yet closed.
    live: HashMap<String, (String, String)>,
    /// Lines referring to a span that is not open, or with another trace id than its span.
    inconsistent: u64,
    inconsistent_examples: Vec<String>,
    /// Trace ids of every `load_op` span.
    op_traces: HashSet<String>,
    /// `(worker, i)` pairs seen on `load_op` close lines, as a count per worker.
    closes_per_worker: BTreeMap<String, u64>,
}

impl Tally {
    fn bad(&mut self, why: &str, line: &str) {
        self.inconsistent += 1;
        if self.inconsistent_examples.len() < 5 {
            self.inconsistent_examples.push(format!("{why}: {line}"));
        }
    }

    fn line(&mut self, line: &str) {
        self.lines += 1;
        let pairs = match parse_line(line) {
            Ok(p) => p,
            Err(e) => {
                self.bad_lines += 1;
                if self.bad_examples.len() < 5 {
                    self.bad_examples.push(format!("{e}: {line:?}"));
                }
                return;
            }
        };
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        if pairs.first().map(|(k, _)| k.as_str()) != Some("level") {
            return self.bad("level is not first", line);
        }
        let (Some(span), Some(trace)) = (get("span"), get("trace_id")) else {
            return self.bad("no span or trace id", line);
        };
        match get("span_event") {
            Some(event @ ("new_span" | "close_span")) => {
                let name = get("span_name").unwrap_or("?").to_owned();
                *self
                    .kinds
                    .entry((name.clone(), event.to_owned()))
                    .or_default() += 1;
                if event == "new_span" {
                    if let Some(parent) = get("parent_span") {
                        match self.live.get(parent) {
                            Some((t, _)) if t == trace => {}
                            _ => return self.bad("parent not open or other trace", line),
                        }
                    }
                    if name == "load_op" {
                        self.op_traces.insert(trace.to_owned());
                    }
                    if self
                        .live
                        .insert(span.to_owned(), (trace.to_owned(), name))
                        .is_some()
                    {
                        self.bad("span id opened twice", line);
                    }
                } else {
                    if get("latency_ms").is_none() {
                        self.bad("close without latency", line);
                    }
                    match self.live.remove(span) {
                        Some((t, n)) if t == trace && n == name => {}
                        _ => return self.bad("closing a span that is not open", line),
                    }
                    if name == "load_op" {
                        let worker = get("worker").unwrap_or("?").to_owned();
                        *self.closes_per_worker.entry(worker).or_default() += 1;
                    }
                }
            }
            Some(_) => self.bad("unknown span_event", line),
            None => {
                let msg = get("msg").unwrap_or("<none>").to_owned();
                let level = get("level").unwrap_or("?").to_owned();
                *self.kinds.entry((msg, level)).or_default() += 1;
                match self.live.get(span) {
                    Some((t, _)) if t == trace => {}
                    _ => self.bad("event in a span that is not open", line),
                }
            }
        }
    }
}

/// A log writer that checks every batch as it arrives: each `write` must hold whole lines.
#[derive(Clone, Default)]
struct Checker(Arc<Mutex<Tally>>);

impl Write for Checker {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut tally = self.0.lock().unwrap();
        tally.writes += 1;
        tally.bytes += buf.len() as u64;
        if buf.last() != Some(&b'\n') {
            tally.partial_writes += 1;
        }
        match std::str::from_utf8(buf) {
            Ok(text) => {
                for line in text.split_inclusive('\n') {
                    tally.line(line);
                }
            }
            Err(_) => tally.bad_lines += 1,
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
#[ignore = "child process of eight_threads_exact_accounting"]
fn child_load() {
    if !is_child("child_load") {
        return;
    }
    silence_panics(&["panicked"]);
    let calls = scaled(CALLS_PER_THREAD);
    let receiver = Receiver::start_http();
    let checker = Checker::default();
    let guard = Config::new()
        .service_name("load")
        .log_writer(checker.clone())
        .otlp_endpoint(receiver.endpoint())
        // One trace in a thousand is exported: the OTel layer sees every span, the
        // exporter a stream it can keep up with.
        .sampler(Sampler::TraceIdRatio(0.001))
        .init()
        .expect("init");

    let started = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|worker| {
            std::thread::spawn(move || {
                let (mut ok, mut err, mut panicked) = (0u64, 0u64, 0u64);
                for i in 0..calls {
                    match std::panic::catch_unwind(|| load_op(worker, i, kind_of(i))) {
                        Ok(Ok(_)) => ok += 1,
                        Ok(Err(_)) => err += 1,
                        Err(_) => panicked += 1,
                    }
                }
                (ok, err, panicked)
            })
        })
        .collect();
    let mut totals = (0, 0, 0);
    for w in workers {
        let (ok, err, panicked) = w.join().unwrap();
        totals = (totals.0 + ok, totals.1 + err, totals.2 + panicked);
    }
    let elapsed = started.elapsed();
    let exposition = guard.metrics_text();
    drop(guard);

    let total = THREADS * calls;
    report("calls", total);
    report("elapsed_ms", elapsed.as_millis());
    report(
        "calls_per_second",
        (total as f64 / elapsed.as_secs_f64()) as u64,
    );
    assert_eq!(totals.0 + totals.1 + totals.2, total);

    // Metrics: exact per label set and result; histogram counts equal the counters.
    let per_kind = |kind: &str| (0..calls).filter(|&i| kind_of(i) == kind).count() as f64;
    for worker in 0..THREADS {
        for (kind, result) in [("ok", "ok"), ("err", "error"), ("panic", "error")] {
            let labels = format!(r#"{{worker="{worker}",kind="{kind}",result="{result}"}}"#);
            for metric in ["load_op_total", "load_op_duration_seconds_count"] {
                assert_eq!(
                    sample(&exposition, &format!("{metric}{labels}")),
                    Some(per_kind(kind)),
                    "{metric}{labels}"
                );
            }
        }
    }
    assert_eq!(
        samples(&exposition, "load_op_total").len(),
        (THREADS * 3) as usize
    );
    let inner = r#"{function="load_inner",module="reliability_load",result="ok"}"#;
    for metric in [
        "function_calls_total",
        "function_calls_duration_seconds_count",
    ] {
        assert_eq!(
            sample(&exposition, &format!("{metric}{inner}")),
            Some(total as f64),
            "{metric}{inner}\n{exposition}"
        );
    }
    for (name, hist) in [
        ("load_op_total", "load_op_duration_seconds_count"),
        (
            "function_calls_total",
            "function_calls_duration_seconds_count",
        ),
    ] {
        let counters = samples(&exposition, name);
        let counts: BTreeMap<String, f64> = samples(&exposition, hist).into_iter().collect();
        for (labels, value) in counters {
            assert_eq!(counts.get(&labels), Some(&value), "{hist}{labels}");
        }
    }
    assert_eq!(
        sample(&exposition, "observe_log_lines_dropped_total"),
        Some(0.0)
    );

    // Logs: whole lines, all parse, all consistent, exact counts.
    let tally = checker.0.lock().unwrap();
    report("log_lines", tally.lines);
    report("log_bytes", tally.bytes);
    report("log_writes", tally.writes);
    assert_eq!(tally.partial_writes, 0, "a write ended inside a line");
    assert_eq!(tally.bad_lines, 0, "{:#?}", tally.bad_examples);
    assert_eq!(tally.inconsistent, 0, "{:#?}", tally.inconsistent_examples);
    assert!(
        tally.live.is_empty(),
        "{} spans never closed",
        tally.live.len()
    );
    let errors = THREADS as f64 * per_kind("err");
    let expected: BTreeMap<(String, String), u64> = [
        (("load_op", "new_span"), total),
        (("load_op", "close_span"), total),
        (("load_inner", "new_span"), total),
        (("load_inner", "close_span"), total),
        (("op running", "info"), total),
        (("inner running", "info"), total),
        // `err`: one ERROR event per returned `Err`, without a message.
        (("<none>", "error"), errors as u64),
    ]
    .into_iter()
    .map(|((a, b), n)| ((a.to_owned(), b.to_owned()), n))
    .collect();
    assert_eq!(tally.kinds, expected);
    let lines: u64 = expected.values().sum();
    assert_eq!(tally.lines, lines, "lossless: the line count is exact");
    for worker in 0..THREADS {
        assert_eq!(
            tally.closes_per_worker.get(&worker.to_string()),
            Some(&calls)
        );
    }

    // Traces: the sampled ones arrived, and each is a trace the logs know.
    let spans = receiver.spans();
    report("exported_spans", spans.len());
    assert!(!spans.is_empty(), "about 1 in 1000 traces is exported");
    for span in &spans {
        assert!(tally.op_traces.contains(&span.trace_id), "{span:?}");
    }
}

#[test]
#[ignore = "long: run by scripts/test.sh with --ignored"]
fn eight_threads_exact_accounting() {
    let (output, elapsed) = run_child("child_load", &scale_env(), Duration::from_secs(600));
    assert_success("child_load", &output);
    let r = reports(&output);
    eprintln!("load: {r:?} in {elapsed:?}");
}

// ---------------------------------------------------------------------------------------
// A slow writer in lossy mode.
// ---------------------------------------------------------------------------------------

/// Each write sleeps this long: a stalled disk or a blocked pipe.
const SLOW_WRITE: Duration = Duration::from_millis(250);
/// No call may take this long; a call that waited on the writer even once would.
const LOSSY_CALL_BOUND: Duration = Duration::from_millis(100);

#[derive(Clone, Default)]
struct SlowWriter {
    lines: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
    bad: Arc<AtomicU64>,
}

impl Write for SlowWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(SLOW_WRITE);
        self.writes.fetch_add(1, Ordering::Relaxed);
        let text = std::str::from_utf8(buf).unwrap_or("");
        for line in text.split_inclusive('\n') {
            if parse_line(line).is_err() || !line.ends_with('\n') {
                self.bad.fetch_add(1, Ordering::Relaxed);
            }
            self.lines.fetch_add(1, Ordering::Relaxed);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[observe(metric = "lossy_op")]
fn lossy_op(i: u64) {
    tracing::info!(i, "working");
}

#[test]
#[ignore = "child process of slow_writer_in_lossy_mode_never_blocks_and_counts_drops"]
fn child_lossy() {
    if !is_child("child_lossy") {
        return;
    }
    let threads = 4;
    let calls = scaled(5_000);
    let writer = SlowWriter::default();
    let guard = Config::new()
        .log_writer(writer.clone())
        .log_lossy(true)
        .init()
        .expect("init");
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(calls as usize);
                for i in 0..calls {
                    let t = Instant::now();
                    lossy_op(i);
                    latencies.push((t.elapsed(), i));
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<(Duration, u64)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    let exposition = guard.metrics_text();
    let shutdown = Instant::now();
    drop(guard); // drains what is pending: one more slow write
    let shutdown = shutdown.elapsed();

    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].0;
    report(
        "slowest_calls",
        format!("{:?}", &latencies[latencies.len() - 5..]),
    );
    let produced = threads * calls * 3; // new_span, the event, close_span
    let dropped = sample(&exposition, "observe_log_lines_dropped_total").expect("dropped");
    let written = writer.lines.load(Ordering::Relaxed);
    report("calls", threads * calls);
    report("elapsed_ms", elapsed.as_millis());
    report("p50_us", at(0.5).as_micros());
    report("p99_us", at(0.99).as_micros());
    report("max_us", at(1.0).as_micros());
    report("writer_writes", writer.writes.load(Ordering::Relaxed));
    report("lines_produced", produced);
    report("lines_written", written);
    report("lines_dropped", dropped);
    report("shutdown_ms", shutdown.as_millis());

    assert_eq!(writer.bad.load(Ordering::Relaxed), 0, "written lines parse");
    assert!(dropped > 0.0, "the writer was slow enough to drop lines");
    assert!(written > 0, "and fast enough to write some");
    assert_eq!(
        written + dropped as u64,
        produced,
        "every line is either written or counted as dropped"
    );
    assert!(
        at(1.0) < LOSSY_CALL_BOUND,
        "a call took {:?} (bound {LOSSY_CALL_BOUND:?}, writer sleeps {SLOW_WRITE:?} per write)",
        at(1.0)
    );
    // Had the threads waited on the writer, writing all lines would have taken
    // (lines / lines per write) × 250 ms; they finished far sooner.
    assert_eq!(
        sample(&exposition, r#"lossy_op_total{result="ok"}"#),
        Some((threads * calls) as f64),
        "metrics are exact even when lines are dropped"
    );
}

#[test]
#[ignore = "long: run by scripts/test.sh with --ignored"]
fn slow_writer_in_lossy_mode_never_blocks_and_counts_drops() {
    let (output, elapsed) = run_child("child_lossy", &scale_env(), Duration::from_secs(300));
    assert_success("child_lossy", &output);
    eprintln!("lossy: {:?} in {elapsed:?}", reports(&output));
}

// ---------------------------------------------------------------------------------------
// Memory under a runaway label.
// ---------------------------------------------------------------------------------------

const MEMORY_CALLS: u64 = 1_000_000;
/// RSS growth allowed between the end of warm-up and the end of the run.
const RSS_GROWTH_BOUND: u64 = 16 << 20;
/// RSS growth allowed over the last three quarters of the run (675,000 calls), scraped
/// after each quarter: a leak of 5 bytes per call would exceed it (a leaked series, label
/// or string costs far more). What remains is allocator high-water noise (up to ~1.6 MiB
/// seen), from histogram observations buffered between scrapes.
const RSS_STEADY_BOUND: u64 = 3 << 20;

#[observe(metric = "mem_op", labels(id = id))]
fn mem_op(id: u64) {
    tracing::info!("tick");
}

#[test]
#[ignore = "child process of runaway_label_keeps_series_and_memory_flat"]
fn child_memory() {
    if !is_child("child_memory") {
        return;
    }
    let total = scaled(MEMORY_CALLS);
    let threads = 2;
    let guard = Config::new().log_writer(io::sink()).init().expect("init");
    // The same two threads throughout (new threads bring new stacks, arenas and
    // thread-locals, which would blur the picture): a warm-up past the cap, then four equal
    // steps with RSS read in between, to tell a steady leak (growth at every step) from a
    // one-off.
    let warm = total / 10;
    let step = (total - warm) / 4;
    let bounds: Vec<(u64, u64)> = std::iter::once((0, warm))
        .chain((0..4).map(|k| {
            let to = if k == 3 { total } else { warm + (k + 1) * step };
            (warm + k * step, to)
        }))
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(threads as usize + 1));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (bounds, barrier) = (bounds.clone(), barrier.clone());
            std::thread::spawn(move || {
                for (from, to) in bounds {
                    let per = (to - from) / threads;
                    let end = if t == threads - 1 {
                        to
                    } else {
                        from + (t + 1) * per
                    };
                    for id in from + t * per..end {
                        mem_op(id);
                    }
                    barrier.wait(); // step done
                    barrier.wait(); // RSS read
                }
            })
        })
        .collect();
    barrier.wait();
    let _ = guard.metrics_text();
    let before = rss_bytes();
    barrier.wait();
    let started = Instant::now();
    let mut steps = Vec::new();
    for _ in 0..4 {
        barrier.wait();
        // A scrape, as Prometheus would make: it drains the histogram observations the
        // exporter buffers between upkeeps (every 5 s; up to 8 bytes per call meanwhile).
        let _ = guard.metrics_text();
        steps.push(rss_bytes().saturating_sub(before) / 1024);
        barrier.wait();
    }
    workers.into_iter().for_each(|w| w.join().unwrap());
    let elapsed = started.elapsed();
    let exposition = guard.metrics_text();
    let after = rss_bytes();
    report("rss_growth_steps_kib", format!("{steps:?}"));
    drop(guard);

    let series = samples(&exposition, "mem_op_total");
    let limit = observe::runtime::config::DEFAULT_CARDINALITY_LIMIT;
    report("calls", total);
    report("elapsed_ms", elapsed.as_millis());
    report("rss_before_kib", before / 1024);
    report("rss_after_kib", after / 1024);
    report("rss_growth_kib", after.saturating_sub(before) / 1024);
    report("series", series.len());
    assert_eq!(series.len(), limit + 1, "the cap plus one overflow series");
    let overflow = sample(&exposition, r#"mem_op_total{otel_metric_overflow="true"}"#);
    assert_eq!(overflow, Some((total - limit as u64) as f64));
    let sum: f64 = series.iter().map(|(_, v)| v).sum();
    assert_eq!(sum, total as f64, "every call counted once");
    let late = steps[3].saturating_sub(steps[0]) << 10;
    assert!(
        late < RSS_STEADY_BOUND,
        "RSS kept growing: {steps:?} KiB after each quarter (bound {} KiB over the last three)",
        RSS_STEADY_BOUND / 1024
    );
    assert!(
        after.saturating_sub(before) < RSS_GROWTH_BOUND,
        "RSS grew {} KiB over {} calls (bound {} KiB)",
        (after - before) / 1024,
        total - warm,
        RSS_GROWTH_BOUND / 1024
    );
}

#[test]
#[ignore = "long: run by scripts/test.sh with --ignored"]
fn runaway_label_keeps_series_and_memory_flat() {
    let (output, elapsed) = run_child("child_memory", &scale_env(), Duration::from_secs(600));
    assert_success("child_memory", &output);
    eprintln!("memory: {:?} in {elapsed:?}", reports(&output));
}
