//! Setting up each configuration's global subscriber and recorder, and the baselines'
//! workloads: the stock tracing stack ("naive"), autometrics and fastrace.

use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use observe_runtime::Signals;
use observe_runtime::config::{Config, MetricsExporters, Sampler};
use observe_runtime::filter::SignalFilter;
use observe_runtime::log::writer::{LineSink, NonBlockingWriter, WriterGuard};
use observe_runtime::log::{LogOutput, SpanLines};
use observe_runtime::metrics::{Metrics, MetricsConfig};
use observe_runtime::trace::TracePipeline;
use observe_testkit::otlp::{Receiver, Transport};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Subscriber, instrument};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// observe as an application gets it: `init`, no OTLP endpoint, lines through the real
/// `NonBlockingWriter` into `io::sink()`. `configure` sets what the configuration varies.
pub(crate) fn observe_init(
    configure: impl FnOnce(Config) -> Config,
) -> Result<observe_runtime::Guard, String> {
    configure(
        Config::new()
            .log_filter("info")
            .log_writer(io::sink())
            .trace_export(false),
    )
    .init()
    .map_err(|e| e.to_string())
}

/// `full` with OTLP export over HTTP to a receiver on 127.0.0.1 that decodes and discards
/// ([`observe_testkit::otlp::Receiver`]): every log line also as a log record, and with
/// `all`, every span and the metrics (pushed every second) too.
pub(crate) fn observe_otlp(all: bool) -> Result<(observe_runtime::Guard, Receiver), String> {
    let receiver = discarding_receiver()?;
    let guard = observe_init(|config| {
        config
            .otlp_endpoint(receiver.endpoint())
            .logs_export(true)
            .trace_export(all)
            .metrics_exporters(MetricsExporters {
                prometheus: true,
                otlp: all,
            })
            .metric_export_interval(Duration::from_secs(1))
    })?;
    Ok((guard, receiver))
}

/// A receiver on 127.0.0.1 that decodes and counts OTLP/HTTP exports and keeps nothing.
pub(crate) fn discarding_receiver() -> Result<Receiver, String> {
    Receiver::builder(Transport::HttpProtobuf)
        .discard()
        .start()
        .map_err(|e| format!("OTLP receiver: {e}"))
}

/// A line sink that drops every line on the spot: with it, `full` minus this is the
/// writer's share.
struct NullSink;

impl LineSink for NullSink {
    fn write_line(&self, line: &[u8]) {
        black_box(line);
    }
}

/// For the cost split: `init`'s layer without export, some signals left out. `logs` =
/// None: records only (span bookkeeping, the log signal filtered `off`); Some(false): logs
/// encoded into [`NullSink`]; metrics optional.
pub(crate) fn observe_parts(logs: Option<bool>, metrics_on: bool) -> Metrics {
    let metrics = Metrics::new(MetricsConfig::default()).expect("metrics");
    let filter = |d: &str| SignalFilter::new(d).expect("filter");
    let output = match logs {
        Some(true) => {
            let (w, guard) = NonBlockingWriter::new(io::sink()).expect("writer thread");
            std::mem::forget(guard);
            LogOutput::new(w)
        }
        _ => LogOutput::new(NullSink),
    };
    // With logs off, the log signal still takes every info span (so that records are
    // made) but writes nothing: span lines off, events filtered by level.
    let output = if logs.is_none() {
        output.with_span_lines(SpanLines::Off)
    } else {
        output
    };
    let mut builder = Signals::builder()
        .filter_subscriber()
        .logs(output, filter("info"));
    if metrics_on {
        builder = builder.metrics(&metrics, filter("trace"));
    }
    let subscriber = tracing_subscriber::registry().with(builder.build());
    tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
    metrics.install_global().expect("global recorder");
    metrics
}

/// An exporter that discards every batch.
#[derive(Debug)]
struct DiscardExporter;

impl SpanExporter for DiscardExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// The SDK's batch processor (its own thread) in front of [`DiscardExporter`], for the
/// tracing-opentelemetry baselines.
fn discarding_provider() -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(DiscardExporter).build())
        .build()
}

/// `init`'s layer with trace export, through observe's own export thread into
/// [`DiscardExporter`] (`init` itself only builds OTLP exporters).
pub(crate) struct ObserveOtel {
    _traces: TracePipeline,
    _writer: WriterGuard,
    _metrics: Metrics,
}

pub(crate) fn observe_with_otel(sampler: Sampler) -> ObserveOtel {
    let settings = Config::new()
        .otlp_endpoint("http://127.0.0.1:4318")
        .resolve("observe-bench")
        .expect("settings");
    let traces = TracePipeline::with_exporter(DiscardExporter, settings.traces.as_ref().unwrap())
        .expect("trace pipeline");
    let (writer, writer_guard) = NonBlockingWriter::new(io::sink()).expect("writer thread");
    let metrics = Metrics::new(MetricsConfig::default()).expect("metrics");
    let filter = |d: &str| SignalFilter::new(d).expect("filter");
    let signals = Signals::builder()
        .filter_subscriber()
        .logs(LogOutput::new(writer), filter("info"))
        .metrics(&metrics, filter("trace"))
        .traces(traces.sink(), filter("info"))
        .sampler(sampler)
        .build();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(signals))
        .expect("global subscriber");
    metrics.install_global().expect("global recorder");
    ObserveOtel {
        _traces: traces,
        _writer: writer_guard,
        _metrics: metrics,
    }
}

/// Lets tracing-subscriber's `fmt` write through the same `NonBlockingWriter` into
/// `io::sink()` as observe: one `write_all` of the formatted line per record.
#[derive(Clone)]
pub(crate) struct SinkWriter(NonBlockingWriter);

/// A [`SinkWriter`] for `fmt`, and the guard of its writer thread.
pub(crate) fn sink_writer() -> (SinkWriter, WriterGuard) {
    let (writer, guard) = NonBlockingWriter::new(io::sink()).expect("writer thread");
    (SinkWriter(writer), guard)
}

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = LineWriter<'a>;
    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter(&self.0)
    }
}

pub(crate) struct LineWriter<'a>(&'a NonBlockingWriter);

impl io::Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The Prometheus recorder as autometrics' docs and the naive stack install it, with the
/// upkeep observe's `Metrics` runs too (the exporter buffers histogram samples until then).
pub(crate) fn prometheus_global() -> PrometheusHandle {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("global recorder");
    let upkeep = handle.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(5));
            upkeep.run_upkeep();
        }
    });
    handle
}

/// What a team writes first: time the span, label it with its fields, call the `metrics`
/// macros on close.
struct NaiveMetricsLayer;

struct NaiveTiming {
    start: Instant,
    labels: Vec<metrics::Label>,
}

struct LabelVisitor<'a>(&'a mut Vec<metrics::Label>);

impl Visit for LabelVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .push(metrics::Label::new(field.name(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push(metrics::Label::new(field.name(), format!("{value:?}")));
    }
}

impl<S> Layer<S> for NaiveMetricsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut labels = Vec::new();
        attrs.record(&mut LabelVisitor(&mut labels));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(NaiveTiming {
                start: Instant::now(),
                labels,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let extensions = span.extensions();
        let Some(timing) = extensions.get::<NaiveTiming>() else {
            return;
        };
        let mut labels = timing.labels.clone();
        labels.push(metrics::Label::new("result", "ok"));
        let seconds = timing.start.elapsed().as_secs_f64();
        metrics::counter!("naive_calls_total", labels.clone()).increment(1);
        metrics::histogram!("naive_calls_duration_seconds", labels).record(seconds);
    }
}

pub(crate) struct Naive {
    _provider: Option<SdkTracerProvider>,
    _writer: WriterGuard,
    _handle: PrometheusHandle,
}

/// The stock stack: `EnvFilter`, `fmt` with a close line per span, the metrics layer
/// above; with `otel`, tracing-opentelemetry on the same discarding pipeline as observe's.
pub(crate) fn naive(otel: bool) -> Naive {
    let provider = otel.then(discarding_provider);
    let otel_layer = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("naive")));
    let (writer, writer_guard) = NonBlockingWriter::new(io::sink()).expect("writer thread");
    let fmt = tracing_subscriber::fmt::layer()
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(SinkWriter(writer));
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(otel_layer)
        .with(fmt)
        .with(NaiveMetricsLayer);
    tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
    let handle = prometheus_global();
    Naive {
        _provider: provider,
        _writer: writer_guard,
        _handle: handle,
    }
}

#[instrument(skip_all, fields(table = "events", kind = "song"))]
#[inline(never)]
fn naive_call(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

pub(crate) fn run_naive(n: u64) {
    for i in 0..n {
        black_box(naive_call(black_box(i)));
    }
}

/// The `event` configuration's baseline: the stock `fmt` layer (default format, which
/// prints the span's fields too), the same writer.
pub(crate) fn event_fmt() -> WriterGuard {
    let (writer, writer_guard) = NonBlockingWriter::new(io::sink()).expect("writer thread");
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(tracing_subscriber::fmt::layer().with_writer(SinkWriter(writer)));
    tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
    writer_guard
}

#[instrument(skip_all, fields(request_id = "r-42"))]
#[inline(never)]
pub(crate) fn run_event_fmt(n: u64) {
    for i in 0..n {
        tracing::info!(user = "ada", attempt = i, "paid");
    }
}

pub(crate) fn autometrics() -> PrometheusHandle {
    prometheus_global()
}

#[autometrics::autometrics]
#[inline(never)]
fn autometrics_call(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

pub(crate) fn run_autometrics(n: u64) {
    for i in 0..n {
        black_box(autometrics_call(black_box(i)));
    }
}

/// The route observe did not take for OTLP metrics: recording every call into OpenTelemetry
/// SDK instruments (a counter and a histogram with observe's default bounds, the same three
/// attributes as `metrics`' label set), read every 60 s by a periodic reader into an exporter
/// that discards. Its per-call cost is what that route would add to observe's own metrics,
/// which `/metrics` and the exemplars need anyway.
pub(crate) struct SdkInstruments {
    provider: SdkMeterProvider,
    calls: opentelemetry::metrics::Counter<u64>,
    duration: opentelemetry::metrics::Histogram<f64>,
    attributes: [KeyValue; 3],
}

pub(crate) fn sdk_instruments() -> SdkInstruments {
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(DiscardMetrics)
        .build();
    let meter = provider.meter("observe-bench");
    SdkInstruments {
        calls: meter.u64_counter("bench_call_total").build(),
        duration: meter
            .f64_histogram("bench_call_duration_seconds")
            .with_boundaries(observe_runtime::config::DEFAULT_BUCKETS.to_vec())
            .build(),
        attributes: [
            KeyValue::new("table", "events"),
            KeyValue::new("kind", "song"),
            KeyValue::new("result", "ok"),
        ],
        provider,
    }
}

impl SdkInstruments {
    pub(crate) fn run(&self, n: u64) {
        for i in 0..n {
            let start = Instant::now();
            black_box(sdk_call(black_box(i)));
            self.calls.add(1, &self.attributes);
            self.duration
                .record(start.elapsed().as_secs_f64(), &self.attributes);
        }
    }
}

impl Drop for SdkInstruments {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

#[inline(never)]
fn sdk_call(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        black_box(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

struct DiscardReporter;

impl fastrace::collector::Reporter for DiscardReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        black_box(spans);
    }
}

pub(crate) fn fastrace() {
    fastrace::set_reporter(DiscardReporter, fastrace::collector::Config::default());
}

pub(crate) fn run_fastrace(n: u64) {
    use fastrace::prelude::{Span, SpanContext};
    for i in 0..n {
        let root = Span::root("fastrace_call", SpanContext::random());
        let _guard = root.set_local_parent();
        black_box(fastrace_call(black_box(i)));
    }
}

/// The same function, its span opened by the caller (fastrace records a span only under a
/// sampled root, so the root is the span).
#[inline(never)]
fn fastrace_call(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}
