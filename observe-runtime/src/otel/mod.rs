//! The OpenTelemetry pipeline: an OTLP span exporter (gRPC via tonic, or HTTP/protobuf via
//! hyper) behind a batch span processor, both on a dedicated tokio runtime owned by the
//! [`OtelPipeline`], and the `tracing-opentelemetry` layer that feeds it.
//!
//! The dedicated runtime (threads named `observe-otel`) is started whatever runtime the
//! application uses, or none; its threads carry a no-op tracing dispatcher, so the
//! exporter's own hyper/h2/tonic spans and events never feed back into the pipeline.
//! [`exporter_noise_filter`] lists those targets for the application's filter too.
//!
//! The layer honours the fields `otel.name`, `otel.kind` (`server`, `client`, `producer`,
//! `consumer`, `internal`), `otel.status_code` (`OK`/`ERROR`) and `otel.status_description`,
//! turns an ERROR-level event into span status Error, and `follows_from` into a link.
//!
//! ```no_run
//! use observe_runtime::config::Config;
//! use observe_runtime::otel::OtelPipeline;
//! use std::time::Duration;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let settings = Config::new().otlp_endpoint("http://127.0.0.1:4318").resolve("songs")?;
//! let mut pipeline = OtelPipeline::start(settings.traces.as_ref().unwrap())?;
//! let subscriber = tracing_subscriber::registry().with(pipeline.layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     let _span = tracing::info_span!("work", otel.kind = "server").entered();
//! });
//! pipeline.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::runtime;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracer, SdkTracerProvider};
use tracing::Dispatch;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::registry::LookupSpan;

use crate::config::{Protocol, Sampler, TraceExport};

/// The name of the pipeline's runtime threads.
pub const THREAD_NAME: &str = "observe-otel";

/// How long [`Drop`] waits for a pipeline that was not shut down explicitly.
pub const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Targets of the exporter's own dependencies (`h2`, `hyper`, `hyper_util`, `tonic`, `tower`,
/// `opentelemetry*`), for `init` to turn off in the application's `EnvFilter` (e.g. as
/// `h2=off`). Note that `EnvFilter` matches targets by prefix, so `tower` also covers
/// `tower_http` and `opentelemetry` covers `opentelemetry_sdk`, `opentelemetry_otlp`, ….
///
/// ```
/// let targets = observe_runtime::otel::exporter_noise_filter();
/// assert!(targets.contains(&"h2") && targets.contains(&"opentelemetry"));
/// ```
pub fn exporter_noise_filter() -> Vec<&'static str> {
    vec![
        "h2",
        "hyper",
        "hyper_util",
        "tonic",
        "tower",
        "opentelemetry",
        "opentelemetry_sdk",
        "opentelemetry_otlp",
        "opentelemetry_http",
    ]
}

/// How many finished spans the batch processor holds for export before it drops new ones,
/// unless `OTEL_BSP_MAX_QUEUE_SIZE` says otherwise. The SDK's default, 2,048, silently loses
/// most of a burst of 10,000 spans (a batch job, a fan-out) even with the collector up,
/// because the queue is not read while a batch is being exported. The channel allocates as
/// it fills, so the larger bound costs memory only when spans are actually waiting.
pub const MAX_QUEUE_SIZE: usize = 16_384;

/// The SDK's batch settings (which read the `OTEL_BSP_*` variables), with observe's
/// [`MAX_QUEUE_SIZE`] when `OTEL_BSP_MAX_QUEUE_SIZE` is not set to a number.
fn batch_config() -> opentelemetry_sdk::trace::BatchConfig {
    let builder = BatchConfigBuilder::default();
    let from_env = std::env::var("OTEL_BSP_MAX_QUEUE_SIZE")
        .ok()
        .is_some_and(|v| v.trim().parse::<usize>().is_ok());
    if from_env {
        builder.build()
    } else {
        builder.with_max_queue_size(MAX_QUEUE_SIZE).build()
    }
}

/// What went wrong starting or stopping the pipeline.
#[derive(Debug)]
#[non_exhaustive]
pub enum OtelError {
    /// The dedicated runtime or a helper thread could not be started.
    Runtime(std::io::Error),
    /// The OTLP exporter could not be built.
    Exporter(opentelemetry_otlp::ExporterBuildError),
    /// The settings ask for something this build does not have (e.g. TLS).
    Unsupported(String),
    /// Shutdown did not finish within the given time; spans may be lost.
    ShutdownTimeout(Duration),
    /// The provider reported an error while flushing or shutting down.
    Shutdown(opentelemetry_sdk::error::OTelSdkError),
}

impl fmt::Display for OtelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OtelError::Runtime(e) => write!(f, "cannot start the {THREAD_NAME} runtime: {e}"),
            OtelError::Exporter(e) => write!(f, "cannot build the OTLP span exporter: {e}"),
            OtelError::Unsupported(what) => f.write_str(what),
            OtelError::ShutdownTimeout(t) => {
                write!(f, "OpenTelemetry shutdown did not finish within {t:?}")
            }
            OtelError::Shutdown(e) => write!(f, "OpenTelemetry shutdown failed: {e}"),
        }
    }
}

impl std::error::Error for OtelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OtelError::Runtime(e) => Some(e),
            OtelError::Exporter(e) => Some(e),
            OtelError::Shutdown(e) => Some(e),
            _ => None,
        }
    }
}

/// A running trace pipeline: exporter + batch processor on a dedicated runtime, and the
/// tracer provider. Create the tracing layer with [`layer`](Self::layer); stop with
/// [`shutdown`](Self::shutdown) (or drop it, which waits up to [`DROP_SHUTDOWN_TIMEOUT`]).
pub struct OtelPipeline {
    provider: SdkTracerProvider,
    runtime: Option<tokio::runtime::Runtime>,
    shut_down: bool,
}

impl fmt::Debug for OtelPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelPipeline")
            .field("shut_down", &self.shut_down)
            .finish_non_exhaustive()
    }
}

fn sdk_sampler(sampler: Sampler) -> opentelemetry_sdk::trace::Sampler {
    use opentelemetry_sdk::trace::Sampler as S;
    match sampler {
        Sampler::AlwaysOn => S::AlwaysOn,
        Sampler::AlwaysOff => S::AlwaysOff,
        Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(r),
        Sampler::ParentBasedAlwaysOn => S::ParentBased(Box::new(S::AlwaysOn)),
        Sampler::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
        Sampler::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
    }
}

fn build_exporter(settings: &TraceExport) -> Result<opentelemetry_otlp::SpanExporter, OtelError> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match settings.protocol {
        Protocol::Grpc => {
            let mut metadata = opentelemetry_otlp::tonic_types::metadata::MetadataMap::new();
            // Names and values were validated by `Config::resolve` (tokens, visible ASCII).
            *metadata.as_mut() = settings
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.parse().ok()?, v.parse().ok()?)))
                .collect();
            builder
                .with_tonic()
                .with_endpoint(settings.endpoint.clone())
                .with_timeout(settings.timeout)
                .with_metadata(metadata)
                .build()
        }
        Protocol::HttpProtobuf => {
            // `with_headers` percent-decodes values, which `Config` already did: escape `%`.
            let headers: HashMap<String, String> = settings
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), v.replace('%', "%25")))
                .collect();
            builder
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(settings.endpoint.clone())
                .with_timeout(settings.timeout)
                .with_headers(headers)
                .build()
        }
    };
    exporter.map_err(OtelError::Exporter)
}

impl OtelPipeline {
    /// Starts the pipeline for `settings` (the `traces` part of
    /// [`Settings`](crate::config::Settings)): a dedicated runtime, the OTLP exporter, a
    /// batch span processor, the sampler and the resource (`service.name` + attributes +
    /// `telemetry.sdk.*`). Installs the W3C `TraceContextPropagator` globally.
    ///
    /// Never connects: a collector that is down does not block `start` or span creation.
    ///
    /// Headers from `settings` are sent with every export. Note that the OTLP exporter also
    /// merges `OTEL_EXPORTER_OTLP_{TRACES_}HEADERS` from the process environment itself.
    ///
    /// # Errors
    /// [`OtelError::Runtime`] when the runtime cannot start, [`OtelError::Exporter`] when the
    /// exporter cannot be built, [`OtelError::Unsupported`] for an `https` endpoint (TLS is not
    /// built in).
    ///
    /// ```no_run
    /// use observe_runtime::{config::Config, otel::OtelPipeline};
    /// let settings = Config::new().otlp_endpoint("http://127.0.0.1:4317")
    ///     .otlp_protocol(observe_runtime::config::Protocol::Grpc).resolve("app")?;
    /// let pipeline = OtelPipeline::start(settings.traces.as_ref().unwrap())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(settings: &TraceExport) -> Result<OtelPipeline, OtelError> {
        if settings
            .endpoint
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            return Err(OtelError::Unsupported(
                "an https:// endpoint in OTEL_EXPORTER_OTLP_ENDPOINT or \
                 OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or Config::otlp_endpoint) needs TLS, which \
                 this build of observe does not include; use http:// (e.g. a local collector)"
                    .into(),
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .thread_name(THREAD_NAME)
            .enable_all()
            .on_thread_start(|| {
                // The exporter's own spans and events go nowhere, for this thread's life.
                std::mem::forget(tracing::dispatcher::set_default(&Dispatch::none()));
            })
            .build()
            .map_err(OtelError::Runtime)?;

        let built = {
            let _enter = runtime.enter();
            // Nothing the exporter does while being built reaches the app's subscriber.
            tracing::dispatcher::with_default(&Dispatch::none(), || {
                let exporter = build_exporter(settings)?;
                // Spawns its worker on the current (our) runtime.
                let processor = BatchSpanProcessor::builder(exporter, runtime::Tokio)
                    .with_batch_config(batch_config())
                    .build();
                let resource = Resource::builder_empty()
                    .with_detector(Box::new(TelemetryResourceDetector))
                    .with_attributes(
                        settings
                            .resource_attributes
                            .iter()
                            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
                    )
                    .with_service_name(settings.service_name.clone())
                    .build();
                Ok::<_, OtelError>(
                    SdkTracerProvider::builder()
                        .with_span_processor(processor)
                        .with_sampler(sdk_sampler(settings.sampler))
                        .with_resource(resource)
                        .build(),
                )
            })
        };
        let provider = match built {
            Ok(provider) => provider,
            Err(e) => {
                // Dropping a runtime inside an async context panics; this never blocks.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Ok(OtelPipeline {
            provider,
            runtime: Some(runtime),
            shut_down: false,
        })
    }

    /// A tracer named `observe` from this pipeline's provider.
    ///
    /// ```no_run
    /// # use observe_runtime::{config::Config, otel::OtelPipeline};
    /// # let s = Config::new().otlp_endpoint("http://127.0.0.1:4318").resolve("app")?;
    /// let pipeline = OtelPipeline::start(s.traces.as_ref().unwrap())?;
    /// let tracer = pipeline.tracer();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer_with_scope(
            InstrumentationScope::builder("observe")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
    }

    /// The tracer provider (e.g. to install as the global provider).
    ///
    /// ```no_run
    /// # use observe_runtime::{config::Config, otel::OtelPipeline};
    /// # let s = Config::new().otlp_endpoint("http://127.0.0.1:4318").resolve("app")?;
    /// let pipeline = OtelPipeline::start(s.traces.as_ref().unwrap())?;
    /// opentelemetry::global::set_tracer_provider(pipeline.provider().clone());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The `tracing-opentelemetry` layer exporting through this pipeline, with ERROR events
    /// setting span status Error (and recorded as exception events).
    ///
    /// ```no_run
    /// # use observe_runtime::{config::Config, otel::OtelPipeline};
    /// use tracing_subscriber::layer::SubscriberExt;
    /// # let s = Config::new().otlp_endpoint("http://127.0.0.1:4318").resolve("app")?;
    /// let pipeline = OtelPipeline::start(s.traces.as_ref().unwrap())?;
    /// let subscriber = tracing_subscriber::registry().with(pipeline.layer());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layer<S>(&self) -> OpenTelemetryLayer<S, SdkTracer>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer())
            .with_error_events_to_status(true)
            .with_error_events_to_exceptions(true)
    }

    /// Exports every pending span and shuts the provider and the runtime down, waiting at
    /// most `timeout`. Safe from a current-thread or multi-thread tokio runtime, or none:
    /// the blocking work runs on a plain helper thread. Calling it again returns `Ok(())`.
    ///
    /// # Errors
    /// [`OtelError::ShutdownTimeout`] when the flush did not finish in time (it goes on in
    /// the background), [`OtelError::Shutdown`] when the provider reported an error (e.g.
    /// the last export failed).
    ///
    /// ```no_run
    /// # use observe_runtime::{config::Config, otel::OtelPipeline};
    /// # let s = Config::new().otlp_endpoint("http://127.0.0.1:4318").resolve("app")?;
    /// let mut pipeline = OtelPipeline::start(s.traces.as_ref().unwrap())?;
    /// pipeline.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&mut self, timeout: Duration) -> Result<(), OtelError> {
        if std::mem::replace(&mut self.shut_down, true) {
            return Ok(());
        }
        let provider = self.provider.clone();
        let runtime = self.runtime.take();
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(format!("{THREAD_NAME}-shutdown"))
            .spawn(move || {
                let _quiet = tracing::dispatcher::set_default(&Dispatch::none());
                let result = provider.shutdown_with_timeout(timeout);
                let _ = tx.send(result);
                if let Some(runtime) = runtime {
                    runtime.shutdown_timeout(Duration::from_secs(1));
                }
            })
            .map_err(OtelError::Runtime)?;
        match rx.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(OtelError::Shutdown(e)),
            Err(_) => Err(OtelError::ShutdownTimeout(timeout)),
        }
    }
}

impl Drop for OtelPipeline {
    fn drop(&mut self) {
        let _ = self.shutdown(DROP_SHUTDOWN_TIMEOUT);
    }
}
