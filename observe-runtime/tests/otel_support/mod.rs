//! Shared by `otel_feedback` and `otel_feedback_http`: the feedback test, run over one
//! transport per binary.
//!
//! With the pipeline's layer in the *global* subscriber, the exporter's own hyper/h2/tonic
//! spans and events never reach it (its runtime threads have a no-op dispatcher), so only
//! the application's spans are exported. One test per binary: the global default is
//! process-wide, hence one file per transport.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use observe_runtime::Signals;
use observe_runtime::config::{Config, Protocol};
use observe_runtime::filter::SignalFilter;
use observe_runtime::trace::TracePipeline;
use observe_testkit::otlp::{Receiver, Transport};
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Clone, Default)]
struct Targets(Arc<Mutex<Vec<(String, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Targets {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().target().to_owned(), thread));
    }
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        self.0
            .lock()
            .unwrap()
            .push((event.metadata().target().to_owned(), thread));
    }
}

/// Exports 50 application spans over `protocol` to a real receiver on `transport` and
/// checks that none of the exporter's own spans or events reached the subscriber.
pub(crate) fn exporter_spans_never_feed_back(protocol: Protocol, transport: Transport) {
    let receiver = Receiver::start(transport);
    let targets = Targets::default();
    let settings = Config::new()
        .otlp_endpoint(receiver.endpoint())
        .otlp_protocol(protocol)
        .resolve_with(|_| None, "feedback")
        .unwrap();
    let mut pipeline = TracePipeline::start(settings.traces.as_ref().unwrap()).unwrap();
    // Every target admitted, so that the exporter's own crates would be seen if they
    // reached the subscriber at all.
    let signals = Signals::builder()
        .traces(pipeline.sink(), SignalFilter::new("trace,h2=trace,hyper=trace,hyper_util=trace,tonic=trace,tower=trace,opentelemetry=trace").unwrap())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(signals)
        .with(targets.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    for i in 0..50 {
        tracing::info_span!("app", i).in_scope(|| tracing::info!("hello"));
        if i % 10 == 0 {
            // Let a few exports happen while the app is still running.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    pipeline.shutdown(Duration::from_secs(10)).unwrap();

    let spans = receiver.spans();
    assert_eq!(spans.len(), 50);
    assert!(spans.iter().all(|s| s.name == "app"));
    let seen = targets.0.lock().unwrap();
    let noise: Vec<_> = seen
        .iter()
        .filter(|(target, thread)| {
            thread.starts_with("observe-export")
                || ["h2", "hyper", "tonic", "tower", "opentelemetry"]
                    .iter()
                    .any(|n| target.starts_with(n))
        })
        .collect();
    assert!(noise.is_empty(), "exporter telemetry leaked: {noise:?}");
}
