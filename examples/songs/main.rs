//! The songs service from the article: a small HTTP API whose every layer is observed.
//!
//! ```sh
//! cargo run --example songs            # serve on 127.0.0.1:3000 until Ctrl-C
//! cargo run --example songs -- --demo  # serve, drive a few requests, print what was observed
//! ```
//!
//! - `POST /songs` stores a song through an `#[observe]`d repository method (a `db_event`
//!   client span and metric) and spawns vendor look-ups with `observe_async!`: real HTTP
//!   calls, carrying `traceparent`, to the stub vendor route of this same server.
//! - `GET /songs/{id}` answers 200 or 404; a song titled `crash` makes the store fail (500).
//! - `/metrics` serves the Prometheus exposition.
//!
//! Set `OTEL_EXPORTER_OTLP_ENDPOINT` to export the traces; logfmt lines go to stdout.

mod demo;
mod repository;
mod routes;
mod vendor;

use std::net::SocketAddr;
use std::sync::Arc;

use observe::runtime::config::Config;

const DEFAULT_ADDR: &str = "127.0.0.1:3000";

struct Args {
    addr: SocketAddr,
    demo: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            addr: DEFAULT_ADDR.parse().expect("a valid default"),
            demo: false,
        };
        let mut words = std::env::args().skip(1);
        while let Some(word) = words.next() {
            match word.as_str() {
                "--demo" => args.demo = true,
                "--addr" => {
                    let value = words
                        .next()
                        .ok_or("--addr needs an address, e.g. 127.0.0.1:3000")?;
                    args.addr = value
                        .parse()
                        .map_err(|e| format!("--addr {value:?}: {e}"))?;
                }
                other => {
                    return Err(format!(
                        "unknown argument {other:?}; expected --demo or --addr ADDR"
                    ));
                }
            }
        }
        Ok(args)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse()?;
    let guard = Config::new().init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(routes::AppState::new(addr));
        let app = routes::router(state, guard.metrics().clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown_signal())
                .await
        });
        if args.demo {
            let summary = demo::drive(addr).await?;
            eprintln!("{summary}");
            server.abort();
        } else {
            eprintln!("songs listening on http://{addr}");
            eprintln!("  curl -s -X POST http://{addr}/songs -H 'content-type: application/json' -d '{{\"title\":\"Blue\",\"artist\":\"Joni\"}}'");
            eprintln!("  curl -s http://{addr}/songs/1");
            eprintln!("  curl -s http://{addr}/metrics");
            server.await??;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    drop(runtime);
    // Flushes the log lines and exports the pending spans.
    drop(guard);
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish in-flight requests, then flush.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
