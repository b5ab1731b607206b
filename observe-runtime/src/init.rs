//! [`init`]: the layers composed from the environment, and the [`Guard`] that flushes them.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Registry;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Layer, SubscriberExt};

use crate::config::{Config, ConfigError, Settings};
use crate::context::ContextLayer;
use crate::log::writer::{Backpressure, NonBlockingWriter, WriterGuard};
use crate::log::{LogFormat, LogLayer};
use crate::metrics::{Metrics, MetricsConfig, MetricsServer};
use crate::otel::{OtelError, OtelPipeline, exporter_noise_filter};

/// Counts the log lines a lossy writer dropped.
const DROPPED_LINES: &str = "observe_log_lines_dropped_total";

/// How long dropping the [`Guard`] waits for pending spans to reach the collector.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Logs, metrics and traces from the environment (see [`Config`] for the variables).
///
/// Installs the global tracing subscriber and the global metrics recorder, serves
/// `/metrics` when `OBSERVE_METRICS_ADDR` is set and exports spans when an OTLP endpoint is.
/// Keep the returned [`Guard`] alive for the life of the program: dropping it flushes the
/// log lines and exports the pending spans.
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

impl Config {
    /// [`init`] with these settings; what is set here beats the environment.
    ///
    /// ```no_run
    /// use observe_runtime::config::{Config, LogFormat};
    ///
    /// let _guard = Config::new()
    ///     .log_format(LogFormat::Json)
    ///     .metrics_addr("127.0.0.1:9464".parse().unwrap())
    ///     .init()
    ///     .expect("observability");
    /// ```
    pub fn init(mut self) -> Result<Guard, InitError> {
        static INITIALISED: AtomicBool = AtomicBool::new(false);
        // `tracing::dispatcher::has_been_set` is no help: scoped dispatchers set it too.
        if INITIALISED.swap(true, Ordering::SeqCst) {
            return Err(InitError::AlreadyInitialised);
        }
        let writer = self.log_writer.take().and_then(|slot| slot.take());
        let settings = self
            .resolve(&default_service_name())
            .map_err(InitError::Config)?;
        start(settings, writer)
    }
}

fn start(
    settings: Settings,
    writer: Option<Box<dyn std::io::Write + Send>>,
) -> Result<Guard, InitError> {
    let filter = log_filter(&settings.log_filter)?;

    let metrics = Metrics::new(MetricsConfig {
        buckets: settings.histogram_buckets.clone(),
        cardinality_limit: settings.cardinality_limit,
    })
    .map_err(|e| InitError::Metrics(e.to_string()))?;
    metrics.add_process_collector();

    let metrics_server = match settings.metrics_addr {
        Some(addr) => Some(metrics.serve(addr).map_err(|e| {
            InitError::Config(ConfigError::env(
                "OBSERVE_METRICS_ADDR",
                &addr.to_string(),
                format!("cannot listen there: {e}"),
            ))
        })?),
        None => None,
    };

    let otel = settings
        .traces
        .as_ref()
        .map(OtelPipeline::start)
        .transpose()
        .map_err(InitError::Otel)?;

    let (log_layer, writer_guard) = match settings.log_format {
        LogFormat::Off => (None, None),
        format => {
            let backpressure = if settings.log_lossy {
                Backpressure::Drop
            } else {
                Backpressure::Block
            };
            let builder = NonBlockingWriter::builder().backpressure(backpressure);
            let (writer, guard) = match writer {
                Some(custom) => builder.spawn(custom),
                None => builder.spawn(std::io::stdout()),
            }
            .map_err(InitError::Writer)?;
            let dropped = writer.clone();
            metrics.add_collector(move || {
                metrics::counter!(DROPPED_LINES).absolute(dropped.dropped_lines());
            });
            let layer = LogLayer::new(writer).with_format(format).behind_context();
            (Some(layer), Some(guard))
        }
    };

    let mut context = match otel {
        Some(_) => ContextLayer::new().with_otel_ids(),
        None => ContextLayer::new(),
    };
    if log_layer.is_some() {
        // The log layer closes every record (fixing its latency) before reading it.
        context = context.closed_outside();
    }
    // The layers in this order: filter, OTel, context, logs, metrics. Each layer wraps the
    // stack in one more `Layered` that every span callback passes through (and `try_close`
    // probes, level by level, for the registry), so a part that is off is left out rather
    // than stacked as a `None` layer.
    let filter: Box<dyn Layer<Registry> + Send + Sync> = match filter {
        LogFilter::Targets(targets) => targets,
        LogFilter::Env(env) => env,
    };
    let base = tracing_subscriber::registry().with(filter);
    // The context layer sits inside the log and metrics layers, unfiltered: it keeps
    // every span's record, which they only read.
    let metrics_layer = metrics.layer().behind_context();
    match (otel.as_ref(), log_layer) {
        (None, None) => install(base.with(context).with(metrics_layer)),
        (None, Some(log)) => install(base.with(context).with(log).with(metrics_layer)),
        (Some(pipeline), None) => install(
            base.with(pipeline.layer())
                .with(context)
                .with(metrics_layer),
        ),
        (Some(pipeline), Some(log)) => install(
            base.with(pipeline.layer())
                .with(context)
                .with(log)
                .with(metrics_layer),
        ),
    }?;
    // After the subscriber, so that a process with a subscriber of its own fails before
    // taking the recorder slot; the app's own `metrics::counter!` calls land here.
    metrics
        .install_global()
        .map_err(|_| InitError::Metrics("a global metrics recorder is already installed".into()))?;
    metrics::describe_counter!(
        DROPPED_LINES,
        "Log lines dropped because the writer fell behind (OBSERVE_LOG_LOSSY=true)."
    );

    Ok(Guard {
        metrics,
        metrics_server,
        otel,
        writer: writer_guard,
    })
}

fn install(subscriber: impl Subscriber + Send + Sync + 'static) -> Result<(), InitError> {
    tracing::subscriber::set_global_default(subscriber).map_err(|_| InitError::AlreadyInitialised)
}

/// The log filter: `RUST_LOG` plus `off` for the exporter's own crates (see [`env_filter`]).
///
/// `EnvFilter` takes a read lock on each span's enter, exit and close (for span and field
/// directives), shared cache lines that every thread writes. When the directives are plain
/// `target=level` / `level` ones, the same filter as a [`Targets`] decides the same way
/// without any per-span state; otherwise (spans, fields, anything unusual) it is the
/// `EnvFilter`.
#[derive(Debug)]
enum LogFilter {
    Targets(Box<Targets>),
    Env(Box<EnvFilter>),
}

fn log_filter(directives: &str) -> Result<LogFilter, InitError> {
    let env = env_filter(directives)?;
    Ok(match simple_targets(directives) {
        Some(targets) => LogFilter::Targets(Box::new(targets)),
        None => LogFilter::Env(Box::new(env)),
    })
}

/// `directives` as [`Targets`], when they are only `level`, `target` and `target=level`
/// directives in the plainest spelling (so that both filters read them alike).
fn simple_targets(directives: &str) -> Option<Targets> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '=' | ',' | '-');
    if directives.is_empty()
        || !directives.chars().all(plain)
        || directives
            .split(',')
            .any(|d| d.is_empty() || d.matches('=').count() > 1)
    {
        return None;
    }
    let mut targets: Targets = directives.parse().ok()?;
    for target in exporter_noise_filter() {
        if !directives.contains(target) {
            targets = targets.with_target(target, LevelFilter::OFF);
        }
    }
    Some(targets)
}

/// `RUST_LOG` plus `off` for the exporter's own crates, unless the filter names them: their
/// telemetry about exporting telemetry would otherwise feed back into the pipeline.
fn env_filter(directives: &str) -> Result<EnvFilter, InitError> {
    let mut filter = EnvFilter::try_new(directives)
        .map_err(|e| InitError::Config(ConfigError::env("RUST_LOG", directives, e.to_string())))?;
    for target in exporter_noise_filter() {
        if !directives.contains(target)
            && let Ok(directive) = format!("{target}=off").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    Ok(filter)
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
    otel: Option<OtelPipeline>,
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
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("metrics_addr", &self.metrics_addr())
            .field("otel", &self.otel.is_some())
            .field("logs", &self.writer.is_some())
            .finish()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Spans first: exporting may still log; the log writer drains last.
        if let Some(mut otel) = self.otel.take()
            && let Err(error) = otel.shutdown(SHUTDOWN_TIMEOUT)
        {
            tracing::warn!(%error, "pending spans were not all exported");
        }
        if let Some(writer) = self.writer.take() {
            writer.shutdown();
        }
        self.metrics_server.take();
    }
}

/// Why [`init`] could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// A bad setting; names the variable (or the builder method).
    Config(ConfigError),
    /// `init` already ran, or another global tracing subscriber is installed.
    AlreadyInitialised,
    /// The metrics recorder could not be set up.
    Metrics(String),
    /// The OpenTelemetry pipeline could not start.
    Otel(OtelError),
    /// The log writer thread could not start.
    Writer(std::io::Error),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Config(e) => e.fmt(f),
            InitError::AlreadyInitialised => f.write_str(
                "observe is already initialised (or another global tracing subscriber is set)",
            ),
            InitError::Metrics(e) => write!(f, "metrics: {e}"),
            InitError::Otel(e) => write!(f, "OpenTelemetry: {e}"),
            InitError::Writer(e) => write!(f, "log writer: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Config(e) => Some(e),
            InitError::Otel(e) => Some(e),
            InitError::Writer(e) => Some(e),
            InitError::AlreadyInitialised | InitError::Metrics(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    /// What a filter lets through, for a fixed set of targets and levels.
    fn decisions(
        filter: impl tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync,
    ) -> Vec<bool> {
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || {
            macro_rules! probe {
                ($($target:literal),*) => {
                    vec![$(
                        tracing::enabled!(target: $target, Level::ERROR),
                        tracing::enabled!(target: $target, Level::WARN),
                        tracing::enabled!(target: $target, Level::INFO),
                        tracing::enabled!(target: $target, Level::DEBUG),
                        tracing::enabled!(target: $target, Level::TRACE),
                    )*]
                };
            }
            probe!(
                "app",
                "app::db",
                "app_other",
                "h2",
                "hyper_util",
                "tonic::transport",
                "x"
            )
        })
    }

    #[test]
    fn plain_directives_use_targets_and_decide_like_env_filter() {
        for directives in [
            "info",
            "warn,app=debug",
            "app::db=trace,app=warn",
            "off,app=info",
            "app",
            "TRACE",
            "3,hyper=debug",
            "debug,h2=info",
        ] {
            let targets = simple_targets(directives).expect(directives);
            let env = env_filter(directives).unwrap();
            assert_eq!(decisions(targets), decisions(env), "{directives}");
        }
    }

    #[test]
    fn span_and_field_directives_keep_env_filter() {
        for directives in [
            "info,app[req]=debug",
            "app[{user=ada}]=trace",
            "info,",
            "a=b=c",
            "x y",
        ] {
            assert!(simple_targets(directives).is_none(), "{directives}");
        }
        assert!(matches!(
            log_filter("info,app[req]=debug").unwrap(),
            LogFilter::Env(_)
        ));
        assert!(matches!(log_filter("info").unwrap(), LogFilter::Targets(_)));
    }
}
