//! [`init`]: the [`Signals`] layer built from the environment and installed, and the
//! [`Guard`] that flushes it.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing_subscriber::layer::SubscriberExt;

use crate::Signals;
use crate::config::{Config, ConfigError, MetricsAddr, Origin, Settings};
use crate::filter::SignalFilter;
use crate::log::LogOutput;
use crate::log::writer::{Backpressure, NonBlockingWriter, WriterGuard};
use crate::metrics::{Metrics, MetricsConfig, MetricsServer};

/// Counts the log lines a lossy writer dropped.
const DROPPED_LINES: &str = "observe_log_lines_dropped_total";
/// Counts the spans lost before export.
const DROPPED_SPANS: &str = "observe_spans_dropped_total";
/// Counts the log records dropped before export.
#[cfg(feature = "otlp")]
const DROPPED_RECORDS: &str = "observe_log_records_dropped_total";
/// Counts failed exports, by signal.
const FAILED_EXPORTS: &str = "observe_exports_failed_total";

/// How long dropping the [`Guard`] waits for pending spans to reach the collector.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Logs, metrics and traces from the environment (see [`Config`] for the variables).
///
/// Installs the global tracing subscriber (a [`Signals`] layer on a registry) and the global
/// metrics recorder, serves `/metrics` when `OBSERVE_METRICS_ADDR` is set and exports spans
/// when an OTLP endpoint is. Keep the returned [`Guard`] alive for the life of the program:
/// dropping it flushes the log lines and exports the pending spans.
///
/// A failed `init` installs nothing that matters: fix the setting and call it again.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let guard = observe_runtime::init()?;
/// tracing::info_span!("job", metric_name = "job").in_scope(|| tracing::info!("working"));
/// assert!(guard.metrics_text().contains(r#"job_total{result="ok"} 1"#));
/// assert!(observe_runtime::init().is_err(), "only once per process");
/// # Ok(())
/// # }
/// ```
pub fn init() -> Result<Guard, InitError> {
    Config::new().init()
}

/// Set once an `init` has installed everything.
static INITIALISED: AtomicBool = AtomicBool::new(false);

impl Config {
    /// [`init`] with these settings; what is set here beats the environment.
    ///
    /// ```no_run
    /// use observe_runtime::config::{Config, LogFormat};
    ///
    /// let _guard = Config::new()
    ///     .log_format(LogFormat::Json)
    ///     .metrics_addr("127.0.0.1:9464")
    ///     .init()
    ///     .expect("observability");
    /// ```
    pub fn init(mut self) -> Result<Guard, InitError> {
        // `tracing::dispatcher::has_been_set` is no help: scoped dispatchers set it too.
        if INITIALISED.load(Ordering::Acquire) {
            return Err(InitError::AlreadyInitialised);
        }
        let writer = self.log_writer.take().and_then(|slot| slot.take());
        let settings = self
            .resolve(&default_service_name())
            .map_err(InitError::Config)?;
        let (signals, guard) = build(&settings, writer)?;
        // Installing cannot be undone: first the recorder (a forwarder that stays inert
        // until the end, see `metrics::global`), then the subscriber.
        if !crate::metrics::install_forwarder() {
            return Err(InitError::MetricsRecorderTaken);
        }
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(signals))
            .map_err(|_| InitError::AlreadyInitialised)?;
        crate::metrics::forward_to(&guard.metrics);
        // The export threads log their failures through the application's dispatcher.
        #[cfg(feature = "otlp")]
        tracing::dispatcher::get_default(|dispatch| {
            if let Some(push) = &guard.metrics_push {
                push.log_to(dispatch.downgrade());
            }
            if let Some(logs) = &guard.log_export {
                logs.failures().log_to(dispatch.downgrade());
            }
        });
        INITIALISED.store(true, Ordering::Release);
        Ok(guard)
    }
}

/// Everything `init` starts, not yet installed: dropping it stops it all.
fn build(
    settings: &Settings,
    writer: Option<Box<dyn io::Write + Send>>,
) -> Result<(Signals, Guard), InitError> {
    let filter = |directives: &str| {
        // Resolved settings hold validated directives.
        SignalFilter::new(directives).map_err(|e| {
            InitError::Config(ConfigError::code(
                "Settings",
                Some(directives.into()),
                e.problem(),
            ))
        })
    };
    let metrics = Metrics::new(MetricsConfig {
        buckets: settings.histogram_buckets.clone(),
        cardinality_limit: settings.cardinality_limit,
    })
    .map_err(InitError::Config)?;
    metrics.add_process_collector();
    metrics.set_build_info(&settings.build_info, &settings.resource.service_name);
    describe_losses(&metrics);

    // `OTEL_METRICS_EXPORTER` without `prometheus` (`otlp`, `none`) serves nothing.
    let metrics_server = match settings
        .metrics_addr
        .as_ref()
        .filter(|_| settings.serve_metrics)
    {
        Some(addr) => {
            Some(
                metrics
                    .serve(addr.addr.as_str())
                    .map_err(|error| InitError::MetricsAddr {
                        addr: addr.clone(),
                        error,
                    })?,
            )
        }
        None => None,
    };

    let mut builder = Signals::builder()
        .filter_subscriber()
        .metrics(&metrics, filter(&settings.metrics_filter)?)
        .sampler(settings.sampler)
        .link_limit(settings.limits.links);

    #[cfg(feature = "otlp")]
    let traces = match &settings.traces {
        Some(export) => {
            let pipeline = crate::trace::TracePipeline::start(export).map_err(InitError::Export)?;
            builder = builder.traces(pipeline.sink(), filter(&settings.traces_filter)?);
            let sink = pipeline.sink();
            metrics.add_collector(move || {
                ::metrics::counter!(DROPPED_SPANS, "reason" => "queue_full")
                    .absolute(sink.dropped());
                ::metrics::counter!(DROPPED_SPANS, "reason" => "export_failed")
                    .absolute(sink.lost());
                ::metrics::counter!(FAILED_EXPORTS, "signal" => "traces")
                    .absolute(sink.failed_exports());
            });
            Some(pipeline)
        }
        None => None,
    };
    #[cfg(feature = "otlp")]
    let metrics_push = match &settings.metrics_export {
        Some(export) => {
            let push = metrics.push_otlp(export).map_err(InitError::Export)?;
            let failures = push.failures();
            metrics.add_collector(move || {
                ::metrics::counter!(FAILED_EXPORTS, "signal" => "metrics")
                    .absolute(failures.count());
            });
            Some(push)
        }
        None => None,
    };
    #[cfg(not(feature = "otlp"))]
    if let Some(endpoint) = settings
        .traces
        .as_ref()
        .map(|t| &t.target)
        .or(settings.metrics_export.as_ref().map(|m| &m.target))
        .or(settings.logs_export.as_ref().map(|l| &l.target))
        .map(|target| &target.endpoint)
    {
        return Err(InitError::OtlpNotBuiltIn {
            endpoint: crate::config::redact_userinfo(endpoint),
        });
    }

    #[cfg(feature = "otlp")]
    let log_export = match &settings.logs_export {
        Some(export) => {
            let logs = crate::log::LogExport::start(export).map_err(InitError::Export)?;
            let (failures, dropped) = (logs.failures(), logs.sink());
            metrics.add_collector(move || {
                ::metrics::counter!(DROPPED_RECORDS).absolute(dropped.dropped());
                ::metrics::counter!(FAILED_EXPORTS, "signal" => "logs").absolute(failures.count());
            });
            Some(logs)
        }
        None => None,
    };

    let (lines, writer_guard) = match settings.log_format {
        None => (None, None),
        Some(format) => {
            let backpressure = if settings.log_lossy {
                Backpressure::Drop
            } else {
                Backpressure::Block
            };
            let builder_ = NonBlockingWriter::builder().backpressure(backpressure);
            let (writer, guard) = match writer {
                Some(custom) => builder_.spawn(custom),
                None => builder_.spawn(io::stdout()),
            }
            .map_err(InitError::Writer)?;
            let dropped = writer.clone();
            metrics.add_collector(move || {
                ::metrics::counter!(DROPPED_LINES).absolute(dropped.dropped_lines());
            });
            (
                Some(LogOutput::new(writer).with_format(format)),
                Some(guard),
            )
        }
    };
    // Lines, OTLP records, both, or neither.
    #[cfg(feature = "otlp")]
    let output = match (lines, &log_export) {
        (Some(lines), Some(logs)) => Some(lines.with_records(logs.sink())),
        (None, Some(logs)) => Some(LogOutput::records_only(logs.sink())),
        (lines, None) => lines,
    };
    #[cfg(not(feature = "otlp"))]
    let output = lines;
    if let Some(output) = output {
        builder = builder.logs(
            output.with_span_lines(settings.span_lines),
            filter(&settings.log_filter)?,
        );
    }

    Ok((
        builder.build(),
        Guard {
            metrics,
            metrics_server,
            #[cfg(feature = "otlp")]
            traces,
            #[cfg(feature = "otlp")]
            metrics_push,
            #[cfg(feature = "otlp")]
            log_export,
            writer: writer_guard,
        },
    ))
}

/// The `# HELP` lines of observe's own loss counters.
fn describe_losses(registry: &Metrics) {
    let metrics = [
        (
            DROPPED_LINES,
            "Log lines dropped because the writer fell behind (OBSERVE_LOG_LOSSY=true).",
        ),
        (
            DROPPED_SPANS,
            "Spans lost before export: the queue was full, or their export failed.",
        ),
        (FAILED_EXPORTS, "Export requests that failed, by signal."),
        #[cfg(feature = "otlp")]
        (
            DROPPED_RECORDS,
            "OTLP log records dropped because their queue was full (OTEL_BLRP_MAX_QUEUE_SIZE).",
        ),
    ];
    ::metrics::with_local_recorder(registry.recorder(), || {
        for (name, help) in metrics {
            ::metrics::describe_counter!(name, help);
        }
    });
}

/// The executable's name: the crate name for a binary built by cargo.
fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// Keeps the pipeline running; dropping it flushes log lines and exports pending spans
/// (waiting at most [`SHUTDOWN_TIMEOUT`] for the collector), on any tokio runtime flavour
/// or none.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let guard = observe_runtime::init()?;
/// tracing::info_span!("step", metric_name = "step").in_scope(|| {});
/// let text = guard.metrics_text();
/// assert!(text.contains("step_duration_seconds_bucket"));
/// drop(guard); // flushes
/// # Ok(())
/// # }
/// ```
pub struct Guard {
    metrics: Metrics,
    metrics_server: Option<MetricsServer>,
    #[cfg(feature = "otlp")]
    traces: Option<crate::trace::TracePipeline>,
    #[cfg(feature = "otlp")]
    metrics_push: Option<crate::metrics::MetricsPush>,
    #[cfg(feature = "otlp")]
    log_export: Option<crate::log::LogExport>,
    writer: Option<WriterGuard>,
}

impl Guard {
    /// The Prometheus text exposition of every metric, as `/metrics` serves it.
    pub fn metrics_text(&self) -> String {
        self.metrics.render()
    }

    /// The metrics, e.g. to serve them from the application's own router.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(MetricsServer::local_addr)
    }

    /// Pushes the metrics now over OTLP (when the push is on), waiting at most `timeout`;
    /// `true` when done (or when the push is off).
    pub fn push_metrics(&self, timeout: Duration) -> bool {
        #[cfg(feature = "otlp")]
        if let Some(push) = &self.metrics_push {
            return push.force_push(timeout);
        }
        let _ = timeout;
        true
    }

    /// Exports the spans queued so far, waiting at most `timeout`; `true` when done (or
    /// when trace export is off).
    pub fn flush_traces(&self, timeout: Duration) -> bool {
        #[cfg(feature = "otlp")]
        if let Some(traces) = &self.traces {
            return traces.force_flush(timeout);
        }
        let _ = timeout;
        true
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Guard");
        debug.field("metrics_addr", &self.metrics_addr());
        #[cfg(feature = "otlp")]
        debug.field("traces", &self.traces);
        debug.field("logs", &self.writer.is_some()).finish()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Spans first: exporting may still log; the log writer drains last.
        #[cfg(feature = "otlp")]
        if let Some(mut traces) = self.traces.take()
            && let Err(error) = traces.shutdown(SHUTDOWN_TIMEOUT)
        {
            tracing::warn!(%error, "pending spans were not all exported");
        }
        #[cfg(feature = "otlp")]
        if let Some(mut logs) = self.log_export.take()
            && !logs.shutdown(SHUTDOWN_TIMEOUT)
        {
            eprintln!(
                "observe: the last log records were not exported within {SHUTDOWN_TIMEOUT:?}"
            );
        }
        #[cfg(feature = "otlp")]
        if let Some(mut push) = self.metrics_push.take()
            && !push.shutdown(SHUTDOWN_TIMEOUT)
        {
            tracing::warn!("the last metrics were not pushed within {SHUTDOWN_TIMEOUT:?}");
        }
        if let Some(writer) = self.writer.take() {
            writer.shutdown();
        }
        self.metrics_server.take();
    }
}

/// Why [`init`] could not start. Nothing was installed: fix the cause and call `init`
/// again.
///
/// Its `Debug` reads like its `Display` (what `main` returning it prints):
///
/// ```
/// use observe_runtime::config::Config;
///
/// let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let err = Config::new().metrics_addr(busy.local_addr().unwrap()).init().unwrap_err();
/// assert!(format!("{err:?}").starts_with("cannot serve /metrics on 127.0.0.1:"));
/// assert!(err.to_string().contains("(from Config::metrics_addr)"));
/// ```
#[non_exhaustive]
pub enum InitError {
    /// A bad setting; names the variable (or the builder method).
    Config(ConfigError),
    /// `init` already ran, or another global tracing subscriber is installed.
    AlreadyInitialised,
    /// Another global `metrics` recorder is installed.
    MetricsRecorderTaken,
    /// `/metrics` cannot be served at the configured address.
    MetricsAddr {
        /// The address, and where it came from.
        addr: MetricsAddr,
        /// Why it cannot be bound (taken, not resolvable, not allowed).
        error: io::Error,
    },
    /// An OTLP export could not start.
    #[cfg(feature = "otlp")]
    Export(crate::otlp::ExportError),
    /// An OTLP endpoint is set, but this build has no trace export (feature `otlp`).
    #[cfg(not(feature = "otlp"))]
    OtlpNotBuiltIn {
        /// The endpoint, without credentials.
        endpoint: String,
    },
    /// The log writer thread could not start.
    Writer(io::Error),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Config(e) => e.fmt(f),
            InitError::AlreadyInitialised => f.write_str(
                "observe is already initialised (or another global tracing subscriber is set)",
            ),
            InitError::MetricsRecorderTaken => f.write_str(
                "another global metrics recorder is installed; observe needs to be the \
                 process's metrics recorder",
            ),
            InitError::MetricsAddr { addr, error } => {
                let source = match addr.origin {
                    Origin::Env(var) | Origin::Code(var) => var,
                };
                write!(
                    f,
                    "cannot serve /metrics on {} (from {source}): {error}",
                    addr.addr
                )
            }
            #[cfg(feature = "otlp")]
            InitError::Export(e) => write!(f, "OTLP export: {e}"),
            #[cfg(not(feature = "otlp"))]
            InitError::OtlpNotBuiltIn { endpoint } => write!(
                f,
                "an OTLP endpoint is set ({endpoint}), but observe was built without its \
                 `otlp` feature; enable it, or unset OTEL_EXPORTER_OTLP_ENDPOINT"
            ),
            InitError::Writer(e) => write!(f, "cannot start the log writer: {e}"),
        }
    }
}

/// Reads like `Display`: `main` returning this error prints its `Debug`.
impl fmt::Debug for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Config(e) => Some(e),
            InitError::MetricsAddr { error, .. } => Some(error),
            #[cfg(feature = "otlp")]
            InitError::Export(e) => Some(e),
            InitError::Writer(e) => Some(e),
            _ => None,
        }
    }
}
