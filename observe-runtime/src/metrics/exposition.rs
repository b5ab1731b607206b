//! [`Metrics`]: one Prometheus recorder, the layers that feed it, and its text exposition.

use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::config::{HTTP_BUCKETS, HTTP_DURATION_METRIC, MetricsConfig};
use super::format::{self, Family};
use super::model;
use super::process::{self, ProcessMetrics};
use super::recording::Recording;
use super::scrape;
use crate::config::ConfigError;

/// The exporter keeps histogram observations in a buffer until a render or an upkeep
/// drains it; this bounds the buffer when nobody scrapes. The exporter's own default.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

type Collector = Arc<dyn Fn() + Send + Sync>;

/// A Prometheus registry for observe's metrics, the app's own and the process's, rendered
/// as the text exposition format 0.0.4.
///
/// Each `Metrics` owns its recorder, so tests and embedders can keep several apart; a cheap
/// clone shares it. Nothing is global until [`install_global`](Self::install_global).
///
/// ```
/// use observe_runtime::metrics::{Metrics, MetricsConfig};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
/// let subscriber = tracing_subscriber::registry().with(metrics.layer());
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("work", metric_name = "jobs").entered();
/// });
/// let text = metrics.render();
/// assert!(text.contains(r#"jobs_total{result="ok"} 1"#));
/// assert!(text.contains(r#"jobs_duration_seconds_bucket{result="ok",le="+Inf"} 1"#));
/// ```
#[derive(Clone)]
pub struct Metrics {
    shared: Arc<Shared>,
}

struct Shared {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    recording: Arc<Recording>,
    collectors: RwLock<Vec<Collector>>,
    process: OnceLock<ProcessMetrics>,
    #[cfg(feature = "otlp")]
    started: std::time::SystemTime,
    /// Dropped with the last clone, which wakes and ends the upkeep thread.
    _upkeep: mpsc::Sender<()>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("recording", &self.shared.recording)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry with `config`'s buckets and cardinality limit, and a background thread
    /// that drains buffered histogram observations every 5 s until the last clone is dropped.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig { cardinality_limit: 100, ..Default::default() });
    /// assert!(metrics.is_ok());
    /// ```
    pub fn new(config: MetricsConfig) -> Result<Metrics, ConfigError> {
        config.validate()?;
        let recorder = PrometheusBuilder::new()
            .set_buckets(&config.buckets)
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(HTTP_DURATION_METRIC.into()),
                    &HTTP_BUCKETS,
                )
            })
            .map_err(|e| ConfigError::code("MetricsConfig::buckets", None, e.to_string()))?
            .build_recorder();
        let handle = recorder.handle();
        let recorder = Arc::new(recorder);
        let recording = Arc::new(Recording::new(
            config.buckets.as_slice().into(),
            config.cardinality_limit,
        ));
        let (stop, stopped) = mpsc::channel();
        let upkeep = handle.clone();
        // Without a thread the buffer grows until someone renders; failing to spawn one is
        // no reason to refuse metrics, so it is not an error.
        let _ = std::thread::Builder::new()
            .name("observe-metrics-upkeep".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(UPKEEP_INTERVAL) {
                    upkeep.run_upkeep();
                }
            });
        Ok(Metrics {
            shared: Arc::new(Shared {
                recorder,
                handle,
                recording,
                collectors: RwLock::default(),
                process: OnceLock::new(),
                #[cfg(feature = "otlp")]
                started: std::time::SystemTime::now(),
                _upkeep: stop,
            }),
        })
    }

    /// A [`Signals`](crate::Signals) layer that records every span naming a metric into
    /// this registry, and produces no other signal: the metrics of `#[observe]` alone.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// let subscriber = tracing_subscriber::registry().with(metrics.layer());
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _span = tracing::debug_span!("save", metric_name = "db_event").entered();
    /// });
    /// assert!(metrics.render().contains(r#"db_event_total{result="ok"} 1"#));
    /// ```
    pub fn layer(&self) -> crate::Signals {
        crate::Signals::builder()
            .metrics(self, crate::filter::SignalFilter::all())
            .build()
    }

    /// The Prometheus recorder behind this registry.
    pub(crate) fn recorder(&self) -> &PrometheusRecorder {
        &self.shared.recorder
    }

    /// What a [`Signals`](crate::Signals) layer records into.
    pub(crate) fn sink(&self) -> super::MetricsSink {
        super::MetricsSink::new(self.shared.recording.clone())
    }

    /// Runs `collect` before every [`render`](Self::render), with this registry as the
    /// thread's `metrics` recorder: `metrics::counter!`, `gauge!` and `histogram!` calls in
    /// it land here whether or not [`install_global`](Self::install_global) was called.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// metrics.add_collector(|| metrics::gauge!("queue_depth").set(3.0));
    /// assert!(metrics.render().contains("queue_depth 3"));
    /// ```
    pub fn add_collector(&self, collect: impl Fn() + Send + Sync + 'static) {
        self.shared
            .collectors
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(collect));
    }

    /// Adds the process metrics the Prometheus client libraries export, read by
    /// `metrics-process` at each render: `process_cpu_seconds_total` (user and system CPU
    /// time, a counter with the platform's sub-second precision, e.g. `0.37`),
    /// `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`,
    /// `process_max_fds`, `process_start_time_seconds` and `process_threads`, where the
    /// platform has them. They need no global install; adding them twice adds them once.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// metrics.add_process_collector();
    /// # #[cfg(target_os = "linux")]
    /// # {
    /// let text = metrics.render();
    /// assert!(text.contains("# TYPE process_cpu_seconds_total counter\n"));
    /// assert!(text.contains("process_resident_memory_bytes"));
    /// # }
    /// ```
    pub fn add_process_collector(&self) {
        let _ = self.shared.process.set(ProcessMetrics::new());
    }

    /// Runs the collectors, then renders everything recorded so far in the Prometheus text
    /// format 0.0.4; histograms have buckets, never quantiles.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// assert_eq!(metrics.render(), "");
    /// ```
    pub fn render(&self) -> String {
        let (ours, theirs) = self.collect();
        let mut text = String::with_capacity(theirs.len() + 4096);
        format::write_prometheus(&mut text, &ours);
        text.push_str(&theirs);
        text
    }

    /// Runs the collectors, then renders everything recorded so far as OpenMetrics 1.0:
    /// the same series as [`render`](Self::render), with an exemplar on each
    /// `_duration_seconds_bucket` and `_total` sample of observe's metrics (the trace and
    /// span of a recent sampled call in that bucket), ending with `# EOF`. What `/metrics`
    /// serves to a scraper that asks for `application/openmetrics-text`.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// let subscriber = tracing_subscriber::registry().with(metrics.layer());
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _span = tracing::info_span!("work", metric_name = "jobs").entered();
    /// });
    /// let text = metrics.render_openmetrics();
    /// assert!(text.contains("# TYPE jobs counter\n"));
    /// assert!(text.contains(r#"jobs_total{result="ok"} 1 # {trace_id=""#));
    /// assert!(text.ends_with("# EOF\n"));
    /// ```
    pub fn render_openmetrics(&self) -> String {
        let mut text = String::with_capacity(8192);
        format::write_openmetrics(&mut text, &self.families());
        text
    }

    /// The exposition a scraper asked for, for serving `/metrics` from an application's
    /// own router: OpenMetrics 1.0 with exemplars when `accept` (the request's `Accept`
    /// header, joined with `,` when it came in several lines) lists
    /// `application/openmetrics-text` without refusing it (`q=0`), as Prometheus does by
    /// default; the text format 0.0.4 otherwise. The same negotiation as
    /// [`serve`](Self::serve)'s listener.
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// let prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    /// let scrape = metrics.scrape(Some(prometheus));
    /// assert!(scrape.content_type.starts_with("application/openmetrics-text"));
    /// assert!(scrape.body.ends_with("# EOF\n"));
    ///
    /// let curl = metrics.scrape(None);
    /// assert_eq!(curl.content_type, "text/plain; version=0.0.4; charset=utf-8");
    /// ```
    pub fn scrape(&self, accept: Option<&str>) -> Scrape {
        if accept.is_some_and(scrape::accept_lists_openmetrics) {
            Scrape {
                content_type: scrape::OPENMETRICS_CONTENT_TYPE,
                body: self.render_openmetrics(),
            }
        } else {
            Scrape {
                content_type: scrape::CONTENT_TYPE,
                body: self.render(),
            }
        }
    }

    /// Every family as one model: what both formats and the OTLP push write.
    pub(crate) fn families(&self) -> Vec<Family> {
        let (mut families, theirs) = self.collect();
        families.extend(format::parse(&theirs));
        families
    }

    /// When this registry started counting (the start of every cumulative value).
    #[cfg(feature = "otlp")]
    pub(crate) fn started(&self) -> std::time::SystemTime {
        self.shared.started
    }

    /// Every family: observe's own as a model, and the exporter's (the application's
    /// metrics, the HTTP layer's, the process's) as the exporter renders them.
    pub(crate) fn collect(&self) -> (Vec<format::Family>, String) {
        // Cloned out so that a collector may add collectors without deadlocking.
        let collectors = self
            .shared
            .collectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let process = self.shared.process.get();
        let mut cpu_seconds = None;
        if !collectors.is_empty() || process.is_some() {
            ::metrics::with_local_recorder(&*self.shared.recorder, || {
                for collect in &collectors {
                    collect();
                }
                cpu_seconds = process.and_then(ProcessMetrics::collect);
            });
        }
        let ours = model::families(&self.shared.recording);
        let mut theirs = self.shared.handle.render();
        // A float counter the exporter cannot hold (its counters are `u64`): rendered here.
        if let Some(seconds) = cpu_seconds {
            process::render_cpu_seconds(&mut theirs, seconds);
        }
        (ours, theirs)
    }

    /// Makes this registry the process-wide `metrics` recorder, so that the app's own
    /// `metrics::counter!` (and friends) calls appear in the same exposition.
    ///
    /// Fails, leaving everything as it was, when a global recorder is already installed
    /// (there can be one per process, and it cannot be replaced).
    ///
    /// ```
    /// use observe_runtime::metrics::{Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// metrics.install_global().unwrap();
    /// metrics::counter!("orders_total").increment(2);
    /// assert!(metrics.render().contains("orders_total 2"));
    ///
    /// let other = Metrics::new(MetricsConfig::default()).unwrap();
    /// assert!(other.install_global().is_err());
    /// ```
    pub fn install_global(&self) -> Result<(), InstallError> {
        ::metrics::set_global_recorder(self.shared.recorder.clone()).map_err(|_| InstallError(()))
    }
}

/// What [`Metrics::scrape`] answers: the body of a `/metrics` response and its
/// `Content-Type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scrape {
    /// `text/plain; version=0.0.4; charset=utf-8` or
    /// `application/openmetrics-text; version=1.0.0; charset=utf-8`.
    pub content_type: &'static str,
    /// The exposition in that format.
    pub body: String,
}

/// A global `metrics` recorder was already installed.
///
/// ```
/// use observe_runtime::metrics::{Metrics, MetricsConfig};
///
/// let first = Metrics::new(MetricsConfig::default()).unwrap();
/// let _ = first.install_global();
/// let err = Metrics::new(MetricsConfig::default()).unwrap().install_global().unwrap_err();
/// assert!(err.to_string().contains("already installed"));
/// ```
#[derive(Debug)]
pub struct InstallError(());

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a global metrics recorder is already installed for this process")
    }
}

impl std::error::Error for InstallError {}
