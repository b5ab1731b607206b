//! Trace export built on observe's own span records (feature `otlp`).
//!
//! When a span that the traces filter took, and that is sampled, closes, the
//! [`Signals`](crate::Signals) layer moves its record into a bounded queue; an export
//! thread turns records into OpenTelemetry spans (`SpanData`: kind, status, typed
//! attributes, events, links) and hands batches to an OpenTelemetry `SpanExporter`, the
//! OTLP one of opentelemetry-otlp by default. Nothing else of the OpenTelemetry SDK runs:
//! no second span model next to observe's, and no export work for an unsampled span.
//!
//! - `data.rs`: the events a record collects for its span;
//! - `convert.rs`: record → `SpanData`;
//! - `queue.rs`, `worker.rs`: the queue and the export thread;
//! - `exporter.rs`: the OTLP exporter and its runtime.
//!
//! ```no_run
//! use observe_runtime::config::Config;
//! use observe_runtime::trace::TracePipeline;
//! use std::time::Duration;
//!
//! let settings = Config::new().otlp_endpoint("http://127.0.0.1:4318").resolve("songs")?;
//! let mut pipeline = TracePipeline::start(settings.traces.as_ref().unwrap())?;
//! // ... give `pipeline.sink()` to `Signals::builder().traces(..)` ...
//! pipeline.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod convert;
mod data;
mod exporter;
mod worker;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanExporter;
use tracing::Dispatch;
use tracing_core::dispatcher::WeakDispatch;
use tracing_subscriber::filter::LevelFilter;

pub(crate) use convert::value;
pub(crate) use data::{SpanTraceData, is_exception};

use crate::config::{SpanLimits, TraceExport};
use crate::context::SpanRecord;
use crate::losses::ExportFailures;
use crate::otlp::queue::Queue;
use crate::otlp::{ExportError, resource, runtime};
use worker::{Schedule, Worker};

/// What the layer needs of a running pipeline: the queue, and what to collect per span.
#[derive(Clone, Debug)]
pub struct TraceSink {
    inner: Arc<SinkInner>,
}

#[derive(Debug)]
struct SinkInner {
    queue: Arc<Queue<SpanRecord>>,
    limits: SpanLimits,
    /// Events at this level or more severe become span events (`err` events and panics
    /// always do).
    event_level: LevelFilter,
    failures: Arc<ExportFailures>,
}

impl TraceSink {
    #[inline]
    pub(crate) fn push(&self, record: SpanRecord) {
        self.inner.queue.push(record);
    }

    pub(crate) fn limits(&self) -> &SpanLimits {
        &self.inner.limits
    }

    /// Whether an event at `level` becomes a span event.
    #[inline]
    pub(crate) fn takes_event_level(&self, level: &tracing_core::Level) -> bool {
        *level <= self.inner.event_level
    }

    pub(crate) fn log_to(&self, dispatch: WeakDispatch) {
        self.inner.failures.log_to(dispatch);
    }

    /// Spans dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.inner.queue.dropped()
    }

    /// Spans lost in failed exports.
    pub(crate) fn lost(&self) -> u64 {
        self.inner.failures.lost()
    }

    /// Export requests that failed.
    pub(crate) fn failed_exports(&self) -> u64 {
        self.inner.failures.count()
    }
}

/// A running trace export: the queue, the export thread and the exporter. Give
/// [`sink`](Self::sink) to the layer; [`shutdown`](Self::shutdown) (or dropping it)
/// exports what is pending.
pub struct TracePipeline {
    sink: TraceSink,
    /// Told when the export thread is done; in a mutex only so that the pipeline is `Sync`.
    done: Mutex<Option<mpsc::Receiver<u64>>>,
}

impl fmt::Debug for TracePipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracePipeline")
            .field("dropped_spans", &self.dropped_spans())
            .field("failed_exports", &self.failed_exports())
            .finish_non_exhaustive()
    }
}

/// How long [`Drop`] waits for a pipeline that was not shut down explicitly.
const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

impl TracePipeline {
    /// Starts export to the OTLP collector `settings` names: the export runtime and thread,
    /// the OTLP exporter (never connects here: a collector that is down blocks nothing).
    ///
    /// # Errors
    /// [`ExportError::Runtime`] when a thread cannot start, [`ExportError::Tls`] when the TLS
    /// files are unusable, [`ExportError::Exporter`] when the exporter cannot be built.
    pub fn start(settings: &TraceExport) -> Result<TracePipeline, ExportError> {
        let runtime = runtime::runtime()?;
        match runtime::build_in(&runtime, || exporter::otlp(&settings.target)) {
            Ok(exporter) => Self::spawn(exporter, runtime, settings),
            Err(e) => {
                // Dropping a runtime inside an async context panics; this never blocks.
                runtime.shutdown_background();
                Err(e)
            }
        }
    }

    /// Starts export through `exporter` (any OpenTelemetry `SpanExporter`) with the batch,
    /// limit and resource settings of `settings` (its endpoint and transport are not used).
    ///
    /// ```
    /// use observe_runtime::config::Config;
    /// use observe_runtime::trace::TracePipeline;
    /// use opentelemetry_sdk::error::OTelSdkResult;
    /// use opentelemetry_sdk::trace::{SpanData, SpanExporter};
    ///
    /// /// Prints the names of the spans it is given.
    /// #[derive(Debug)]
    /// struct Names;
    ///
    /// impl SpanExporter for Names {
    ///     async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
    ///         batch.iter().for_each(|span| println!("{}", span.name));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let settings = Config::new().otlp_endpoint("http://unused:4318").resolve("app").unwrap();
    /// let mut pipeline = TracePipeline::with_exporter(Names, settings.traces.as_ref().unwrap()).unwrap();
    /// pipeline.shutdown(std::time::Duration::from_secs(1)).unwrap();
    /// ```
    pub fn with_exporter<E>(
        exporter: E,
        settings: &TraceExport,
    ) -> Result<TracePipeline, ExportError>
    where
        E: SpanExporter + 'static,
    {
        Self::spawn(exporter, runtime::runtime()?, settings)
    }

    fn spawn<E>(
        mut exporter: E,
        runtime: tokio::runtime::Runtime,
        settings: &TraceExport,
    ) -> Result<TracePipeline, ExportError>
    where
        E: SpanExporter + 'static,
    {
        exporter.set_resource(&resource::sdk(&settings.resource));
        let queue = Arc::new(Queue::new(
            settings.batch.max_queue_size,
            settings.batch.max_export_batch_size,
        ));
        let failures = Arc::new(ExportFailures::new(
            "traces",
            crate::config::redact_userinfo(&settings.target.endpoint),
        ));
        let worker = Worker {
            queue: queue.clone(),
            exporter,
            runtime,
            schedule: Schedule {
                delay: settings.batch.schedule_delay,
                export_timeout: settings.batch.export_timeout,
            },
            limits: settings.limits,
            scope: InstrumentationScope::builder("observe")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            failures: failures.clone(),
        };
        let (done_tx, done) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(format!("{}-spans", runtime::THREAD_NAME))
            .spawn(move || {
                let _quiet = tracing::dispatcher::set_default(&Dispatch::none());
                let lost = worker.run();
                let _ = done_tx.send(lost);
            })
            .map_err(ExportError::Runtime)?;
        queue.set_worker(thread.thread().clone());
        Ok(TracePipeline {
            sink: TraceSink {
                inner: Arc::new(SinkInner {
                    queue,
                    limits: settings.limits,
                    event_level: settings.span_event_level,
                    failures,
                }),
            },
            done: Mutex::new(Some(done)),
        })
    }

    /// The handle the [`Signals`](crate::Signals) layer queues finished spans through.
    pub fn sink(&self) -> TraceSink {
        self.sink.clone()
    }

    /// Spans dropped because the queue was full.
    pub fn dropped_spans(&self) -> u64 {
        self.sink.inner.queue.dropped()
    }

    /// Export requests that failed (refused, unreachable, timed out).
    pub fn failed_exports(&self) -> u64 {
        self.sink.inner.failures.count()
    }

    /// Exports everything queued now, waiting at most `timeout`; `false` when it took
    /// longer (the export goes on).
    pub fn force_flush(&self, timeout: Duration) -> bool {
        self.sink.inner.queue.flush(timeout)
    }

    /// Exports every pending span, then stops the export thread and the exporter, waiting
    /// at most `timeout`. Safe from a current-thread or multi-thread tokio runtime, or none.
    /// Calling it again returns `Ok(())`.
    ///
    /// # Errors
    /// [`TraceError::ShutdownTimeout`] when the export did not finish in time (it goes on in
    /// the background); [`TraceError::NotExported`] when it failed (the spans are lost, and
    /// counted).
    pub fn shutdown(&mut self, timeout: Duration) -> Result<(), TraceError> {
        let done = self.done.get_mut().unwrap_or_else(PoisonError::into_inner);
        let Some(done) = done.take() else {
            return Ok(());
        };
        self.sink.inner.queue.closing.store(true, Ordering::Release);
        self.sink.inner.queue.wake();
        match done.recv_timeout(timeout) {
            Ok(0) => Ok(()),
            Ok(lost) => Err(TraceError::NotExported(lost)),
            Err(_) => Err(TraceError::ShutdownTimeout(timeout)),
        }
    }
}

impl Drop for TracePipeline {
    fn drop(&mut self) {
        let _ = self.shutdown(DROP_SHUTDOWN_TIMEOUT);
    }
}

/// What went wrong stopping trace export.
#[derive(Debug)]
#[non_exhaustive]
pub enum TraceError {
    /// Shutdown did not finish within the given time; spans may be lost.
    ShutdownTimeout(Duration),
    /// The last exports, at shutdown, failed: this many spans are lost.
    NotExported(u64),
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::ShutdownTimeout(t) => {
                write!(f, "pending spans were not all exported within {t:?}")
            }
            TraceError::NotExported(n) => {
                write!(f, "the export of the last {n} spans failed; they are lost")
            }
        }
    }
}

impl std::error::Error for TraceError {}
