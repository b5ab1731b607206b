//! Per-call overhead of `#[observe]` against the stock tracing stack, autometrics and
//! fastrace. `scripts/bench.sh` runs every configuration in its own process (the subscriber
//! and the metrics recorder are process-global, as in production) and prints one table.
//!
//! ```text
//! observe-bench run <config>         # one configuration: prints `result <config> <median ns>`
//! observe-bench calls <config> <n>   # setup, then exactly n calls (for callgrind)
//! observe-bench list                 # the configurations, in table order
//! observe-bench report <file>        # the table, from the `result` lines of one run
//! observe-bench gen <dir> <kind> <n> # a crate of n functions (kind: observe | instrument)
//! observe-bench http <config>        # requests/s and latency of an axum service (see `http`)
//! observe-bench http-load <addr>     # that load alone, against a server of another process
//! ```
//!
//! Each configuration wraps the same trivial `#[inline(never)]` function and calls it in a
//! loop: after a warm-up that also sizes a trial to ~`TRIAL_MS`, it times `TRIALS` trials
//! and reports the median ns per call.

mod baselines;
mod generate;
mod http;
mod report;

use std::hint::black_box;
use std::time::{Duration, Instant};

use observe::observe;
use observe_runtime::config::{Config, Sampler};

/// Trials per configuration; the median is reported.
const TRIALS: usize = 15;
/// Target length of one trial.
const TRIAL_MS: u64 = 100;
/// Warm-up before sizing the trials (fills caches, registers metric series, grows buffers).
const WARMUP: Duration = Duration::from_millis(300);

/// Every configuration, in table order.
pub const CONFIGS: &[(&str, &str)] = &[
    ("plain", "the bare function"),
    (
        "off",
        "#[observe] with its level filtered out by every signal",
    ),
    (
        "metrics",
        "#[observe(metric, labels(2))], logs and OTel off",
    ),
    (
        "metrics+concurrency",
        "metrics + track_concurrency (the <metric>_in_flight gauge)",
    ),
    (
        "metrics+objective",
        "metrics + objective(success, latency) labels",
    ),
    (
        "metrics/log-off",
        "metrics, logs on but RUST_LOG=off: only the metrics filter takes the span",
    ),
    (
        "metrics/no-exemplar",
        "metrics with no sampled call: no exemplar kept (sampler always_off)",
    ),
    ("full", "logfmt lines + metrics (observe::init)"),
    (
        "full/no-exemplar",
        "full with no sampled call: no exemplar kept (sampler always_off)",
    ),
    (
        "full+otlp-logs",
        "full + every line as an OTLP log record, to a receiver on loopback",
    ),
    (
        "full+otlp-all",
        "full + spans, log records and metrics over OTLP, to a receiver on loopback",
    ),
    (
        "full+otel",
        "full + trace export, observe's queue, discarding exporter",
    ),
    ("full+otel/0", "full+otel with the sampler at ratio 0"),
    ("event", "info! with 2 fields in an observed span, logfmt"),
    (
        "full x2",
        "full on two threads at once, per call per thread",
    ),
    (
        "full+otel x2",
        "full+otel on two threads at once, per call per thread",
    ),
    ("naive", "#[instrument] + fmt CLOSE + metrics! layer"),
    ("naive+otel", "naive + tracing-opentelemetry, same exporter"),
    (
        "autometrics",
        "#[autometrics], metrics 0.24 + Prometheus recorder",
    ),
    (
        "fastrace",
        "fastrace root span per call, discarding reporter",
    ),
    ("event-fmt", "the same event through stock fmt"),
    (
        "otel-sdk-metrics",
        "the bare function + a counter and a histogram recorded into OTel SDK instruments",
    ),
];

/// Diagnostic configurations for the cost split of `full` (not targets).
pub const SPLIT_CONFIGS: &[(&str, &str)] = &[
    (
        "split:span",
        "registry + Signals making records, writing nothing: span bookkeeping",
    ),
    ("split:+metrics", "… + the metrics signal"),
    ("split:+encode", "… + log lines into a sink that drops them"),
    (
        "split:+write",
        "… + log lines into NonBlockingWriter(io::sink()) = full",
    ),
];

/// The workload: cheap, opaque to the optimiser, never inlined into the loop.
#[inline(never)]
fn plain(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[observe(level = "debug", skip_all)]
#[inline(never)]
fn off(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `metrics`, `full`, `full+otel` and `full x2` call this one.
#[observe(
    skip_all,
    metric = "bench_call",
    labels(table = "events", kind = "song")
)]
#[inline(never)]
fn observed(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `observed` with `track_concurrency`: `metrics+concurrency`.
#[observe(
    skip_all,
    metric = "bench_call",
    labels(table = "events", kind = "song"),
    track_concurrency
)]
#[inline(never)]
fn observed_concurrency(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `observed` with an objective: `metrics+objective`.
#[observe(
    skip_all,
    metric = "bench_call",
    labels(table = "events", kind = "song"),
    objective(name = "bench", success = 99.9, latency = ("250ms", 99.0))
)]
#[inline(never)]
fn observed_objective(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// The span the `event` configuration logs in; one span per trial, many events.
#[observe(skip_all, fields(request_id = "r-42"), metric = "bench_scope")]
#[inline(never)]
fn event_scope(n: u64) {
    for i in 0..n {
        tracing::info!(user = "ada", attempt = i, "paid");
    }
}

/// Times `TRIALS` trials of `run(n)` (n calls each) and returns the ns per call of each.
fn measure(mut run: impl FnMut(u64)) -> Vec<f64> {
    let fixed = FIXED_CALLS.load(std::sync::atomic::Ordering::Relaxed);
    if fixed > 0 {
        let start = Instant::now();
        counted_calls(&mut run, fixed);
        return vec![start.elapsed().as_nanos() as f64 / fixed as f64];
    }
    let n = size_trial(&mut run);
    (0..TRIALS)
        .map(|_| {
            let start = Instant::now();
            run(n);
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .collect()
}

/// Warms up for `WARMUP` and returns the call count of a `TRIAL_MS` trial.
fn size_trial(run: &mut impl FnMut(u64)) -> u64 {
    let mut n = 1_000;
    let mut calls = 0;
    let start = Instant::now();
    while start.elapsed() < WARMUP {
        run(n);
        calls += n;
        n = (n * 2).min(1_000_000);
    }
    let per_call = start.elapsed().as_nanos() as f64 / calls as f64;
    ((TRIAL_MS as f64 * 1e6 / per_call) as u64).max(1_000)
}

/// Two threads run `run(n)` at once per trial; each trial's figure is the mean of both
/// threads' ns per call.
fn measure_two_threads(run: fn(u64)) -> Vec<f64> {
    let fixed = FIXED_CALLS.load(std::sync::atomic::Ordering::Relaxed);
    if fixed > 0 {
        std::thread::scope(|scope| {
            scope.spawn(|| counted_calls(&mut { run }, fixed));
            scope.spawn(|| counted_calls(&mut { run }, fixed));
        });
        return vec![0.0];
    }
    let n = size_trial(&mut |n| run(n));
    let barrier = std::sync::Barrier::new(2);
    let per_thread: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    (0..TRIALS)
                        .map(|_| {
                            barrier.wait();
                            let start = Instant::now();
                            run(n);
                            start.elapsed().as_nanos() as f64 / n as f64
                        })
                        .collect::<Vec<f64>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (0..TRIALS)
        .map(|t| (per_thread[0][t] + per_thread[1][t]) / 2.0)
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run_plain(n: u64) {
    for i in 0..n {
        black_box(plain(black_box(i)));
    }
}

fn run_off(n: u64) {
    for i in 0..n {
        black_box(off(black_box(i)));
    }
}

fn run_observed(n: u64) {
    for i in 0..n {
        black_box(observed(black_box(i)));
    }
}

fn run_concurrency(n: u64) {
    for i in 0..n {
        black_box(observed_concurrency(black_box(i)));
    }
}

fn run_objective(n: u64) {
    for i in 0..n {
        black_box(observed_objective(black_box(i)));
    }
}

/// For `valgrind --tool=callgrind`: the configuration's setup, then exactly `n` calls (as
/// one "trial"), so two counts' difference divided by their call difference is the
/// instructions per call, deterministically.
static FIXED_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The calls of a `calls` run, in a function of their own so that callgrind can count
/// only them (`--toggle-collect=observe_bench::counted_calls`): start-up work whose length
/// depends on wall time (fastant calibrates its clock for a while) and background threads
/// stay out of the count.
#[inline(never)]
fn counted_calls(run: &mut dyn FnMut(u64), n: u64) {
    run(n);
}

fn run(config: &str) -> Result<Vec<f64>, String> {
    // Keeps the pipeline (log writer, OTel provider) alive until the figures are taken.
    let _keep: Box<dyn std::any::Any>;
    let samples = match config {
        "plain" => measure(run_plain),
        "off" => {
            _keep = Box::new(baselines::observe_init(|c| c.metrics_filter("info"))?);
            assert!(!tracing::enabled!(tracing::Level::DEBUG));
            measure(run_off)
        }
        "metrics" => {
            _keep = Box::new(baselines::observe_init(Config::log_off)?);
            measure(run_observed)
        }
        "metrics+concurrency" => {
            _keep = Box::new(baselines::observe_init(Config::log_off)?);
            measure(run_concurrency)
        }
        "metrics+objective" => {
            _keep = Box::new(baselines::observe_init(Config::log_off)?);
            measure(run_objective)
        }
        "metrics/log-off" => {
            _keep = Box::new(baselines::observe_init(|c| c.log_filter("off"))?);
            measure(run_observed)
        }
        "full" => {
            _keep = Box::new(baselines::observe_init(|c| c)?);
            measure(run_observed)
        }
        "metrics/no-exemplar" => {
            _keep = Box::new(baselines::observe_init(|c| {
                c.log_off().sampler(Sampler::AlwaysOff)
            })?);
            measure(run_observed)
        }
        "full/no-exemplar" => {
            _keep = Box::new(baselines::observe_init(|c| c.sampler(Sampler::AlwaysOff))?);
            measure(run_observed)
        }
        "full+otlp-logs" => {
            _keep = Box::new(baselines::observe_otlp(false)?);
            measure(run_observed)
        }
        "full+otlp-all" => {
            _keep = Box::new(baselines::observe_otlp(true)?);
            measure(run_observed)
        }
        "full x2" => {
            _keep = Box::new(baselines::observe_init(|c| c)?);
            measure_two_threads(run_observed)
        }
        "full+otel" => {
            _keep = Box::new(baselines::observe_with_otel(Sampler::ParentBasedAlwaysOn));
            measure(run_observed)
        }
        "full+otel/0" => {
            _keep = Box::new(baselines::observe_with_otel(Sampler::TraceIdRatio(0.0)));
            measure(run_observed)
        }
        "full+otel x2" => {
            _keep = Box::new(baselines::observe_with_otel(Sampler::ParentBasedAlwaysOn));
            measure_two_threads(run_observed)
        }
        "event" => {
            _keep = Box::new(baselines::observe_init(|c| c)?);
            measure(event_scope)
        }
        "split:span" => {
            _keep = Box::new(baselines::observe_parts(None, false));
            measure(run_observed)
        }
        "split:+metrics" => {
            _keep = Box::new(baselines::observe_parts(None, true));
            measure(run_observed)
        }
        "split:+encode" => {
            _keep = Box::new(baselines::observe_parts(Some(false), true));
            measure(run_observed)
        }
        "split:+write" => {
            _keep = Box::new(baselines::observe_parts(Some(true), true));
            measure(run_observed)
        }
        "naive" => {
            _keep = Box::new(baselines::naive(false));
            measure(baselines::run_naive)
        }
        "naive+otel" => {
            _keep = Box::new(baselines::naive(true));
            measure(baselines::run_naive)
        }
        "event-fmt" => {
            _keep = Box::new(baselines::event_fmt());
            measure(baselines::run_event_fmt)
        }
        "autometrics" => {
            _keep = Box::new(baselines::autometrics());
            measure(baselines::run_autometrics)
        }
        "fastrace" => {
            baselines::fastrace();
            let samples = measure(baselines::run_fastrace);
            fastrace::flush();
            samples
        }
        "otel-sdk-metrics" => {
            let instruments = baselines::sdk_instruments();
            let samples = measure(|n| instruments.run(n));
            drop(instruments);
            samples
        }
        other => return Err(format!("unknown configuration {other:?}")),
    };
    Ok(samples)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["run", config] => run(config).map(|samples| {
            let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
            let max = samples.iter().copied().fold(0.0, f64::max);
            let median = median(samples);
            println!("result\t{config}\t{median:.2}\t{min:.2}\t{max:.2}");
        }),
        ["calls", config, n] => n
            .parse::<u64>()
            .map_err(|e| format!("{n:?}: {e}"))
            .and_then(|n| {
                FIXED_CALLS.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
                run(config).map(|_| ())
            }),
        ["list"] => {
            for (id, _) in CONFIGS.iter().chain(SPLIT_CONFIGS) {
                println!("{id}");
            }
            Ok(())
        }
        ["report", file] => report::print(file),
        ["gen", dir, kind, count] => generate::crate_of(dir, kind, count),
        ["http", rest @ ..] => http::main(rest),
        ["http-load", rest @ ..] => http::load_main(rest),
        _ => Err(
            "usage: observe-bench run <config> | calls <config> <n> | list | report <file> | \
                  gen <dir> <observe|instrument> <n> | http <bare|observe|stack> [options] | \
                  http-load <addr> [options]"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("observe-bench: {e}");
        std::process::exit(2);
    }
}
