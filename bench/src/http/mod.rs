//! `observe-bench http <config>`: an axum service whose handler calls one function, served
//! over loopback and driven by a closed-loop load generator at fixed concurrency (HTTP/1.1,
//! keep-alive), in three configurations:
//!
//! - `bare`: the router and the bare function, no telemetry;
//! - `observe`: `ObserveLayer` + `#[observe]` with a metric, set up by `Config::init`, log
//!   lines through the `NonBlockingWriter` into `io::sink()`, spans over OTLP/HTTP to a
//!   discarding receiver on 127.0.0.1;
//! - `stack`: what users assemble instead: tower-http's `TraceLayer`,
//!   `#[tracing::instrument]`, stock `fmt`, metrics-exporter-prometheus and
//!   tracing-opentelemetry with the SDK's batch processor and opentelemetry-otlp's HTTP
//!   exporter to the same kind of receiver.
//!
//! ```text
//! observe-bench http observe                     # 16 connections, 2 s warm-up, 10 s measured
//! observe-bench http stack --load-process        # the load from a second process
//! observe-bench http observe --connections 1 --requests 2000   # a fixed count, for callgrind
//! ```
//!
//! It prints one line for `scripts/bench.sh`'s report: `http`, the configuration,
//! requests/s, p50 and p99 latency (ns), the responses measured and all responses (warm-up
//! included), the spans the receiver got and the spans the requests made, and this
//! process's CPU time per request by thread group (`server=µs,load=µs,...`).
//!
//! - `app.rs`: the three services and their telemetry;
//! - `load.rs`: the load generator and its latency histogram;
//! - `cpu.rs`: CPU time by thread;
//! - `report.rs`: the HTTP tables of `observe-bench report`.

mod app;
mod cpu;
mod load;
pub(crate) mod report;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use load::{LoadSpec, LoadStats};

/// What one run is: the configuration, the load, and where the load runs.
#[derive(Debug)]
struct Options {
    config: app::Config,
    load: LoadSpec,
    /// Drive the load from a second process (`http-load`) instead of a thread of this one.
    load_process: bool,
}

const USAGE: &str = "usage: observe-bench http <bare|observe|stack> [--connections N] \
                     [--warmup SECS] [--duration SECS] [--requests N] [--load-process]\n       \
                     observe-bench http-load <addr> [--connections N] [--warmup SECS] \
                     [--duration SECS] [--requests N]";

/// `observe-bench http <config> [options]`.
pub(crate) fn main(args: &[&str]) -> Result<(), String> {
    let (config, rest) = args.split_first().ok_or(USAGE)?;
    let config = app::Config::parse(config)?;
    let mut load = LoadSpec::default();
    let mut load_process = false;
    match load.parse_options(rest)?.as_slice() {
        [] => {}
        ["--load-process"] => load_process = true,
        other => return Err(format!("unexpected arguments {other:?}\n{USAGE}")),
    }
    run(Options {
        config,
        load,
        load_process,
    })
}

/// `observe-bench http-load <addr> [options]`: the load alone, against a server of another
/// process; prints the same result line without the configuration.
pub(crate) fn load_main(args: &[&str]) -> Result<(), String> {
    let (addr, rest) = args.split_first().ok_or(USAGE)?;
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr:?}: {e}"))?;
    let mut load = LoadSpec::default();
    match load.parse_options(rest)?.as_slice() {
        [] => {}
        other => return Err(format!("unexpected arguments {other:?}\n{USAGE}")),
    }
    let stats = load::run_on_own_thread(addr, load)?;
    println!("{}", stats.to_line());
    Ok(())
}

fn run(options: Options) -> Result<(), String> {
    let server = app::Server::start(options.config)?;
    let name = options.config.name();
    let how_long = match options.load.requests {
        Some(n) => format!("{n} requests each"),
        None => format!(
            "{} s warm-up, {} s measured",
            options.load.warmup.as_secs_f64(),
            options.load.duration.as_secs_f64()
        ),
    };
    eprintln!(
        "http {name}: {} connections to {}, {how_long}, load in {}",
        options.load.connections,
        server.addr(),
        if options.load_process {
            "a second process"
        } else {
            "a thread of this process"
        },
    );
    let start = Instant::now();
    let (release, linger) = std::sync::mpsc::channel();
    let load = if options.load_process {
        Load::Process(load_process(server.addr(), &options.load)?)
    } else {
        let spec = options.load.clone();
        Load::Thread(load::spawn(server.addr(), spec, start, Some(linger))?)
    };
    // This process's CPU time over the measured window (the load process's own is not in
    // it); with a fixed request count there is no window, and callgrind does the counting.
    let by_group = match options.load.requests {
        None => {
            let window = options.load.window(start);
            sleep_until(window.from);
            let cpu_before = cpu::Snapshot::take()?;
            sleep_until(window.to);
            cpu_before.until(&cpu::Snapshot::take()?)
        }
        Some(_) => Default::default(),
    };
    let _ = release.send(());
    let stats = load.wait()?;
    let cpu = cpu::per_request(&by_group, stats.measured_requests);
    if options.load.requests.is_none() {
        eprintln!("http {name}: CPU µs per request by thread: {cpu}");
    }

    // Every span of every request (warm-up included) should reach the receiver: a
    // configuration that drops spans does less work, and the report says so.
    let exported = server.stop(Duration::from_secs(30))?;
    let expected = match exported {
        Some(_) => stats.total_requests * app::SPANS_PER_REQUEST,
        None => 0,
    };
    let exported = exported.unwrap_or(0);
    if exported < expected {
        eprintln!("http {name}: only {exported} of {expected} spans reached the receiver");
    }
    println!(
        "http\t{name}\t{}\t{exported}\t{expected}\t{cpu}",
        stats.to_line()
    );
    Ok(())
}

fn sleep_until(deadline: Instant) {
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
}

/// The load, running.
enum Load {
    Thread(std::thread::JoinHandle<Result<LoadStats, String>>),
    Process(Child),
}

impl Load {
    fn wait(self) -> Result<LoadStats, String> {
        match self {
            Load::Thread(thread) => thread
                .join()
                .map_err(|_| "the load thread panicked".to_string())?,
            Load::Process(child) => {
                let output = child
                    .wait_with_output()
                    .map_err(|e| format!("the load process: {e}"))?;
                if !output.status.success() {
                    return Err(format!("the load process failed: {}", output.status));
                }
                LoadStats::from_line(String::from_utf8_lossy(&output.stdout).trim())
            }
        }
    }
}

/// Starts `observe-bench http-load` against `addr`; its result line comes on its stdout.
fn load_process(addr: SocketAddr, spec: &LoadSpec) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    Command::new(exe)
        .arg("http-load")
        .arg(addr.to_string())
        .args(spec.to_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the load process: {e}"))
}
