//! The songs service from the article: a small HTTP API whose every layer is observed.
//!
//! ```sh
//! cargo run --example songs            # serve on 127.0.0.1:3000 until Ctrl-C or SIGTERM
//! cargo run --example songs -- --demo  # serve on a free port, drive a few requests, print what was observed
//! cargo run --example songs -- --help  # --addr, --demo, --shutdown-timeout
//! ```
//!
//! - `POST /songs` is an `#[observe]`d handler with a service-level objective (`songs_api`:
//!   99% succeed, 99% within 250 ms) and an in-flight gauge. It stores a song through an
//!   `#[observe]`d repository method (a `db_event` client span and metric) and spawns vendor
//!   look-ups with `observe_async!`: real HTTP calls, carrying `traceparent`, to the stub
//!   vendor route of this same server. A song titled `crash` makes the store fail (500):
//!   that is how a run spends the error budget of `songs_api`. When more than 14.4% of the
//!   POSTs of the last hour fail (or 6% of the last six hours), the page
//!   `ObserveErrorBudgetBurn` of `prometheus/observe-slo.rules.yml` goes pending, and fires
//!   two minutes on.
//! - `GET /songs/{id}` answers 200 or 404.
//! - `/metrics` serves the Prometheus exposition: OpenMetrics with exemplars to a scraper that
//!   asks for it (Prometheus does), the text format 0.0.4 otherwise.
//!
//! Logfmt lines go to stdout. Set `OTEL_EXPORTER_OTLP_ENDPOINT` to export the traces to a
//! collector, with `OTEL_METRICS_EXPORTER=prometheus,otlp` and `OTEL_LOGS_EXPORTER=otlp` for the
//! metrics and the log lines too. On
//! SIGTERM or Ctrl-C the requests in flight get `--shutdown-timeout` seconds (10) to finish,
//! then the log lines and spans are flushed and the process exits.

mod args;
mod demo;
mod repository;
mod routes;
mod scrape;
mod shutdown;
mod vendor;

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use observe::runtime::config::Config;
use observe::runtime::metrics::Metrics;

use args::{Args, Command, USAGE};

/// How long the runtime's shutdown waits for its blocking threads; songs starts none.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let args = match Command::parse(std::env::args().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprint!("songs: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("songs: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let guard = Config::new().build_info(observe::build_info!()).init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(serve(args, guard.metrics().clone()));
    // Drops the connections still open past the deadline: their spans close now, while the
    // guard can still log and export them.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    // Flushes the log lines and exports the pending spans.
    drop(guard);
    served
}

/// Serves until a signal (or the end of the demo), then stops within the deadline.
async fn serve(args: &Args, metrics: Metrics) -> Result<(), Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr()?;
    let app = routes::router(Arc::new(routes::AppState::new(addr)), metrics);
    let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopping.await;
        })
        .await
    });
    let outcome = if args.demo {
        demo::drive(addr)
            .await
            .map(|summary| eprintln!("{summary}"))
    } else {
        eprintln!("songs listening on http://{addr}");
        eprintln!(
            "  curl -s -X POST http://{addr}/songs -H 'content-type: application/json' -d '{{\"title\":\"Blue\",\"artist\":\"Joni\"}}'"
        );
        eprintln!(
            "  curl -s -X POST http://{addr}/songs -H 'content-type: application/json' -d '{{\"title\":\"crash\",\"artist\":\"x\"}}'  # a 500"
        );
        eprintln!("  curl -s http://{addr}/songs/1");
        eprintln!("  curl -s http://{addr}/metrics");
        shutdown::signal().await;
        tracing::info!(
            deadline_s = args.shutdown_timeout.as_secs_f64(),
            "shutting down: no new connections; requests in flight may finish"
        );
        Ok(())
    };
    let _ = stop.send(());
    shutdown::finish(server, args.shutdown_timeout).await?;
    outcome
}
