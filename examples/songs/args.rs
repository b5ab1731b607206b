//! The command line: `songs [--addr ADDR] [--demo] [--shutdown-timeout SECONDS]`.

use std::net::SocketAddr;
use std::time::Duration;

pub(crate) const USAGE: &str = "\
songs: the example service of observe, observed at every layer

usage: songs [--addr ADDR] [--demo] [--shutdown-timeout SECONDS]

  --addr ADDR                 listen on ADDR (default 127.0.0.1:3000; with --demo, a free port)
  --demo                      serve, send a few requests, print what observe recorded, exit
  --shutdown-timeout SECONDS  after SIGTERM or Ctrl-C, how long in-flight requests may run
                              before they are cut off and the logs and spans flushed
                              (default 10)
  -h, --help                  print this help

Log lines go to stdout (RUST_LOG filters them). Set OTEL_EXPORTER_OTLP_ENDPOINT to export
the traces to a collector; add OTEL_METRICS_EXPORTER=prometheus,otlp and OTEL_LOGS_EXPORTER=otlp
to send the metrics and the log lines there too.
";

const SERVE_ADDR: &str = "127.0.0.1:3000";
/// The demo talks to itself, so any free port does; a fixed one would clash.
const DEMO_ADDR: &str = "127.0.0.1:0";
/// Kubernetes sends SIGKILL 30 s after SIGTERM (the default `terminationGracePeriodSeconds`):
/// 10 s for the requests leaves the rest for the flush, which waits at most
/// `observe::runtime::SHUTDOWN_TIMEOUT` (5 s) for the collector.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the command line asks for.
pub(crate) enum Command {
    Help,
    Run(Args),
}

pub(crate) struct Args {
    pub addr: SocketAddr,
    pub demo: bool,
    pub shutdown_timeout: Duration,
}

impl Command {
    /// Parses the words after the program name.
    pub(crate) fn parse(words: impl IntoIterator<Item = String>) -> Result<Command, String> {
        let mut addr = None;
        let mut demo = false;
        let mut shutdown_timeout = SHUTDOWN_TIMEOUT;
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            match word.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--demo" => demo = true,
                "--addr" => {
                    let value = words
                        .next()
                        .ok_or("--addr needs an address, e.g. 127.0.0.1:3000")?;
                    addr = Some(
                        value
                            .parse()
                            .map_err(|e| format!("--addr {value:?}: {e}"))?,
                    );
                }
                "--shutdown-timeout" => {
                    let value = words
                        .next()
                        .ok_or("--shutdown-timeout needs a number of seconds, e.g. 10")?;
                    shutdown_timeout = value
                        .parse()
                        .ok()
                        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                        .ok_or_else(|| {
                            format!(
                                "--shutdown-timeout {value:?}: expected seconds, e.g. 10 or 2.5"
                            )
                        })?;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        let default = if demo { DEMO_ADDR } else { SERVE_ADDR };
        Ok(Command::Run(Args {
            addr: addr.unwrap_or_else(|| default.parse().expect("a valid default")),
            demo,
            shutdown_timeout,
        }))
    }
}
