//! The service under load in its three configurations, and each one's telemetry.
//!
//! The service is one route, `GET /songs/{id}`, whose handler calls `lookup(id)` and returns
//! the number it computes. Only the instrumentation differs between configurations; the
//! router, the server (`axum::serve` with connect info, `TCP_NODELAY`) and its tokio runtime
//! (multi-threaded, one worker per core) are the same.

use std::hint::black_box;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Path, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use metrics_exporter_prometheus::PrometheusHandle;
use observe_runtime::log::writer::WriterGuard;
use observe_testkit::otlp::Receiver;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tower_http::trace::{DefaultMakeSpan, DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;

use crate::baselines;

/// Every configuration, in table order.
pub(super) const CONFIGS: &[(&str, &str)] = &[
    ("bare", "the router and the bare function, no telemetry"),
    (
        "observe",
        "ObserveLayer + #[observe(metric)], init: logfmt to a sink, metrics, OTLP/HTTP export",
    ),
    (
        "stack",
        "TraceLayer + #[instrument] + fmt + metrics-exporter-prometheus + tracing-opentelemetry/OTLP",
    ),
];

/// Spans each request makes under `observe` and `stack`: the server span and `lookup`'s.
pub(super) const SPANS_PER_REQUEST: u64 = 2;

/// The stack's span queue: observe's default `OTEL_BSP_MAX_QUEUE_SIZE`.
const STACK_QUEUE_SIZE: usize = 16_384;

/// The service name both instrumented configurations export under.
const SERVICE_NAME: &str = "observe-bench";

/// A configuration of the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Config {
    Bare,
    Observe,
    Stack,
}

impl Config {
    pub(super) fn parse(name: &str) -> Result<Config, String> {
        match name {
            "bare" => Ok(Config::Bare),
            "observe" => Ok(Config::Observe),
            "stack" => Ok(Config::Stack),
            other => Err(format!(
                "unknown HTTP configuration {other:?}: bare, observe or stack"
            )),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Config::Bare => "bare",
            Config::Observe => "observe",
            Config::Stack => "stack",
        }
    }
}

/// The bare function.
mod bare {
    use super::black_box;

    #[inline(never)]
    pub(super) fn lookup(id: u64) -> u64 {
        black_box(id).wrapping_mul(3)
    }
}

/// The function under `#[observe]` with a metric: `bench_call_total` and
/// `bench_call_duration_seconds{table, kind, result}`.
mod observed {
    use super::black_box;
    use observe::observe;

    #[observe(metric = "bench_call", labels(table = "events", kind = "song"))]
    #[inline(never)]
    pub(crate) fn lookup(id: u64) -> u64 {
        black_box(id).wrapping_mul(3)
    }
}

/// The function as the stack writes it: `#[instrument]` for the span, and the same counter
/// and histogram through the `metrics` macros in its body.
mod instrumented {
    use super::{Instant, black_box};

    #[tracing::instrument(fields(table = "events", kind = "song"))]
    #[inline(never)]
    pub(super) fn lookup(id: u64) -> u64 {
        let start = Instant::now();
        let n = black_box(id).wrapping_mul(3);
        let labels = [("table", "events"), ("kind", "song"), ("result", "ok")];
        metrics::counter!("bench_call_total", &labels).increment(1);
        metrics::histogram!("bench_call_duration_seconds", &labels)
            .record(start.elapsed().as_secs_f64());
        n
    }
}

async fn song_bare(Path(id): Path<u64>) -> String {
    bare::lookup(id).to_string()
}

async fn song_observed(Path(id): Path<u64>) -> String {
    observed::lookup(id).to_string()
}

async fn song_instrumented(Path(id): Path<u64>) -> String {
    instrumented::lookup(id).to_string()
}

const ROUTE: &str = "/songs/{id}";

/// The stack's request metrics, from axum's `prometheus-metrics` example, with the one
/// histogram observe's layer records too (the example adds a counter, which the
/// histogram's `_count` already is).
async fn track_metrics(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None => request.uri().path().to_owned(),
    };
    let method = request.method().clone();
    let response = next.run(request).await;
    let latency = start.elapsed().as_secs_f64();
    let labels = [
        ("method", method.to_string()),
        ("path", path),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::histogram!("http_requests_duration_seconds", &labels).record(latency);
    response
}

fn router(config: Config) -> Router {
    match config {
        Config::Bare => Router::new().route(ROUTE, get(song_bare)),
        Config::Observe => Router::new()
            .route(ROUTE, get(song_observed))
            .layer(observe::runtime::http::ObserveLayer::new()),
        // tower-http's spans default to DEBUG, which an `info` filter drops: users who keep
        // them raise them to INFO, with the "started"/"finished processing request" lines.
        Config::Stack => Router::new()
            .route(ROUTE, get(song_instrumented))
            .layer(middleware::from_fn(track_metrics))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                    .on_request(DefaultOnRequest::new().level(Level::INFO))
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            ),
    }
}

/// A configuration's global subscriber and recorder, kept until the figures are taken.
enum Telemetry {
    Bare,
    Observe {
        guard: observe_runtime::Guard,
        receiver: Receiver,
    },
    Stack {
        provider: SdkTracerProvider,
        receiver: Receiver,
        _writer: WriterGuard,
        _recorder: PrometheusHandle,
    },
}

impl Telemetry {
    fn install(config: Config) -> Result<Telemetry, String> {
        match config {
            Config::Bare => Ok(Telemetry::Bare),
            Config::Observe => {
                let receiver = baselines::discarding_receiver()?;
                let guard = observe::runtime::config::Config::new()
                    .service_name(SERVICE_NAME)
                    .log_filter("info")
                    .log_writer(io::sink())
                    .otlp_endpoint(receiver.endpoint())
                    .init()
                    .map_err(|e| e.to_string())?;
                Ok(Telemetry::Observe { guard, receiver })
            }
            Config::Stack => {
                let receiver = baselines::discarding_receiver()?;
                // opentelemetry-otlp's HTTP exporter with its default client (blocking
                // reqwest) behind the SDK's batch processor, as its examples set them up.
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_endpoint(receiver.traces_url())
                    .build()
                    .map_err(|e| format!("OTLP exporter: {e}"))?;
                // The queue as long as observe's (16,384 spans; the SDK's default of 2,048
                // overflows at this rate on 2 cores and drops a fifth of the spans).
                let processor = BatchSpanProcessor::builder(exporter)
                    .with_batch_config(
                        BatchConfigBuilder::default()
                            .with_max_queue_size(STACK_QUEUE_SIZE)
                            .build(),
                    )
                    .build();
                let provider = SdkTracerProvider::builder()
                    .with_span_processor(processor)
                    .with_resource(Resource::builder().with_service_name(SERVICE_NAME).build())
                    .build();
                let (writer, writer_guard) = baselines::sink_writer();
                let subscriber = tracing_subscriber::registry()
                    .with(EnvFilter::new("info"))
                    .with(tracing_subscriber::fmt::layer().with_writer(writer))
                    .with(
                        tracing_opentelemetry::layer().with_tracer(provider.tracer(SERVICE_NAME)),
                    );
                tracing::subscriber::set_global_default(subscriber)
                    .map_err(|e| format!("global subscriber: {e}"))?;
                let recorder = baselines::prometheus_global();
                Ok(Telemetry::Stack {
                    provider,
                    receiver,
                    _writer: writer_guard,
                    _recorder: recorder,
                })
            }
        }
    }

    /// Exports what is pending and returns how many spans the receiver has counted (`None`
    /// without export).
    fn flush(self, timeout: Duration) -> Result<Option<u64>, String> {
        let receiver = match &self {
            Telemetry::Bare => return Ok(None),
            Telemetry::Observe { guard, receiver } => {
                if !guard.flush_traces(timeout) {
                    return Err(format!(
                        "observe did not flush its spans within {timeout:?}"
                    ));
                }
                receiver
            }
            Telemetry::Stack {
                provider, receiver, ..
            } => {
                provider
                    .force_flush()
                    .map_err(|e| format!("the batch processor did not flush: {e}"))?;
                receiver
            }
        };
        Ok(Some(receiver.counts().spans as u64))
    }
}

/// The service, serving on 127.0.0.1 until [`stop`](Self::stop).
pub(super) struct Server {
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    telemetry: Telemetry,
}

impl Server {
    /// Installs `config`'s telemetry and starts serving on a free port.
    pub(super) fn start(config: Config) -> Result<Server, String> {
        let telemetry = Telemetry::install(config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("http-server")
            .enable_all()
            .build()
            .map_err(|e| format!("server runtime: {e}"))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| format!("bind 127.0.0.1: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("local address: {e}"))?;
        let listener = listener.tap_io(|stream| {
            // Responses are one write each; no reason to let Nagle hold any back.
            let _ = stream.set_nodelay(true);
        });
        let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
        let app = router(config).into_make_service_with_connect_info::<SocketAddr>();
        runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopping.await;
                })
                .await
        });
        Ok(Server {
            addr,
            runtime,
            stop,
            telemetry,
        })
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving, closes every span, exports what is pending and returns the spans the
    /// receiver counted (`None` for `bare`).
    pub(super) fn stop(self, timeout: Duration) -> Result<Option<u64>, String> {
        let _ = self.stop.send(());
        self.runtime.shutdown_timeout(timeout);
        self.telemetry.flush(timeout)
    }
}
