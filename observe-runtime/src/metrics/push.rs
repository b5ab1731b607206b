//! The OTLP metrics push (`OTEL_METRICS_EXPORTER=otlp`): every `OTEL_METRIC_EXPORT_INTERVAL`,
//! the registry's families (the series `/metrics` shows, exemplars included) go to the
//! collector, over gRPC (tonic's generated client) or HTTP/protobuf (hyper), on a thread
//! and runtime of their own. A push that fails is counted in
//! `observe_exports_failed_total{signal="metrics"}` and logged (at once, then at most once
//! a minute); the next push carries the values again, cumulative ones whole.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, mpsc};
use std::thread::{self, Thread};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use opentelemetry_http::HttpClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use prost::Message;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tracing::Dispatch;
use tracing_core::dispatcher::WeakDispatch;

use super::Metrics;
use super::otlp::Encoder;
use crate::config::{MetricsExport, OtlpTarget, Protocol};
use crate::losses::ExportFailures;
use crate::otlp::{ExportError, grpc, http, resource, runtime};

/// A running OTLP metrics push. Dropping it (or [`shutdown`](Self::shutdown)) pushes once
/// more, so that the last values reach the collector.
pub struct MetricsPush {
    shared: Arc<Shared>,
    done: Mutex<Option<mpsc::Receiver<()>>>,
}

struct Shared {
    closing: AtomicBool,
    worker: OnceLock<Thread>,
    /// Flush requests made and served.
    flushes: Mutex<(u64, u64)>,
    flushed: Condvar,
    failures: Arc<ExportFailures>,
}

impl fmt::Debug for MetricsPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsPush")
            .field("failed_exports", &self.failed_exports())
            .finish_non_exhaustive()
    }
}

/// How a push reaches the collector.
enum Sender {
    Grpc {
        client: MetricsServiceClient<Channel>,
        metadata: MetadataMap,
    },
    Http {
        client: http::Client,
        url: String,
        headers: Vec<(String, String)>,
    },
}

impl Sender {
    fn new(target: &OtlpTarget) -> Result<Sender, ExportError> {
        Ok(match target.protocol {
            Protocol::Grpc => Sender::Grpc {
                client: MetricsServiceClient::new(grpc::channel(target)?),
                metadata: grpc::metadata(target),
            },
            Protocol::HttpProtobuf => Sender::Http {
                client: http::client(target)?,
                url: target.endpoint.clone(),
                headers: target
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
        })
    }

    async fn send(&mut self, request: ExportMetricsServiceRequest) -> Result<(), String> {
        match self {
            Sender::Grpc { client, metadata } => {
                let mut call = tonic::Request::new(request);
                *call.metadata_mut() = metadata.clone();
                client
                    .export(call)
                    .await
                    .map(drop)
                    .map_err(|status| format!("{}: {}", status.code(), status.message()))
            }
            Sender::Http {
                client,
                url,
                headers,
            } => {
                let mut builder = ::http::Request::post(url.as_str())
                    .header(::http::header::CONTENT_TYPE, "application/x-protobuf");
                for (name, value) in headers.iter() {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                let request = builder
                    .body(Bytes::from(request.encode_to_vec()))
                    .map_err(|e| e.to_string())?;
                let response = client
                    .send_bytes(request)
                    .await
                    .map_err(|e| e.to_string())?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("the collector answered {}", response.status()))
                }
            }
        }
    }
}

impl Metrics {
    /// Starts pushing this registry's metrics over OTLP every `settings.interval`.
    ///
    /// # Errors
    /// [`ExportError`] when the push thread, its runtime or its transport (TLS, endpoint)
    /// cannot be set up. A collector that is down is no error: the pushes fail, counted.
    pub fn push_otlp(&self, settings: &MetricsExport) -> Result<MetricsPush, ExportError> {
        let runtime = runtime::runtime()?;
        let sender = match runtime::build_in(&runtime, || Sender::new(&settings.target)) {
            Ok(sender) => sender,
            Err(e) => {
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let shared = Arc::new(Shared {
            closing: AtomicBool::new(false),
            worker: OnceLock::new(),
            flushes: Mutex::new((0, 0)),
            flushed: Condvar::new(),
            failures: Arc::new(ExportFailures::new(
                "metrics",
                crate::config::redact_userinfo(&settings.target.endpoint),
            )),
        });
        let encoder = Encoder::new(
            settings.temporality,
            resource::proto(&settings.resource),
            self.started(),
        );
        let worker = Worker {
            metrics: self.clone(),
            shared: shared.clone(),
            sender,
            encoder,
            runtime,
            interval: settings.interval,
            timeout: settings.target.timeout,
        };
        let (done_tx, done) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name(format!("{}-metrics", runtime::THREAD_NAME))
            .spawn(move || {
                let _quiet = tracing::dispatcher::set_default(&Dispatch::none());
                worker.run();
                let _ = done_tx.send(());
            })
            .map_err(ExportError::Runtime)?;
        let _ = shared.worker.set(thread.thread().clone());
        Ok(MetricsPush {
            shared,
            done: Mutex::new(Some(done)),
        })
    }
}

impl MetricsPush {
    /// Pushes now and waits for it, at most `timeout`; `false` when it took longer.
    pub fn force_push(&self, timeout: Duration) -> bool {
        let mut flushes = self
            .shared
            .flushes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        flushes.0 += 1;
        let wanted = flushes.0;
        if let Some(worker) = self.shared.worker.get() {
            worker.unpark();
        }
        let (flushes, result) = self
            .shared
            .flushed
            .wait_timeout_while(flushes, timeout, |(_, served)| *served < wanted)
            .unwrap_or_else(PoisonError::into_inner);
        drop(flushes);
        !result.timed_out()
    }

    /// Pushes that failed.
    pub fn failed_exports(&self) -> u64 {
        self.shared.failures.count()
    }

    /// The failure count and log, for `init`'s loss counters.
    pub(crate) fn failures(&self) -> Arc<ExportFailures> {
        self.shared.failures.clone()
    }

    /// Logs failures through `dispatch` (the application's), not the push thread's.
    pub(crate) fn log_to(&self, dispatch: WeakDispatch) {
        self.shared.failures.log_to(dispatch);
    }

    /// Pushes one last time and stops, waiting at most `timeout`; `false` when it took
    /// longer. Calling it again returns `true`.
    pub fn shutdown(&mut self, timeout: Duration) -> bool {
        let done = self.done.get_mut().unwrap_or_else(PoisonError::into_inner);
        let Some(done) = done.take() else {
            return true;
        };
        self.shared.closing.store(true, Ordering::Release);
        if let Some(worker) = self.shared.worker.get() {
            worker.unpark();
        }
        done.recv_timeout(timeout).is_ok()
    }
}

impl Drop for MetricsPush {
    fn drop(&mut self) {
        self.shutdown(Duration::from_secs(5));
    }
}

struct Worker {
    metrics: Metrics,
    shared: Arc<Shared>,
    sender: Sender,
    encoder: Encoder,
    runtime: tokio::runtime::Runtime,
    interval: Duration,
    timeout: Duration,
}

impl Worker {
    fn run(mut self) {
        let mut next = Instant::now() + self.interval;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            let flush = self.flush_requests();
            let closing = self.shared.closing.load(Ordering::Acquire);
            if !closing && flush == self.served() && !wait.is_zero() {
                thread::park_timeout(wait);
                continue;
            }
            self.push();
            self.serve(flush);
            if closing {
                break;
            }
            if Instant::now() >= next {
                next = Instant::now() + self.interval;
            }
        }
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }

    fn flush_requests(&self) -> u64 {
        self.shared
            .flushes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    fn served(&self) -> u64 {
        self.shared
            .flushes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
    }

    fn serve(&self, flush: u64) {
        let mut flushes = self
            .shared
            .flushes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if flush > flushes.1 {
            flushes.1 = flush;
            self.shared.flushed.notify_all();
        }
    }

    fn push(&mut self) {
        let families = self.metrics.families();
        let points = families.iter().map(|f| f.samples.len()).sum();
        let request = self.encoder.request(&families, SystemTime::now());
        let timeout = self.timeout;
        let sender = &mut self.sender;
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, sender.send(request)).await });
        match result {
            Ok(Ok(())) => self.shared.failures.succeeded(),
            Ok(Err(error)) => self.shared.failures.failed(points, &error),
            Err(_) => self
                .shared
                .failures
                .failed(points, &format_args!("no answer within {timeout:?}")),
        }
    }
}
