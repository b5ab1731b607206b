//! OTLP log records (`OTEL_LOGS_EXPORTER=otlp`, feature `otlp`): every line the log filter
//! admits is also captured as a record (severity, body, typed attributes, the line's trace
//! and span ids), queued, and exported in batches through opentelemetry-otlp's
//! `LogExporter` on a thread of its own.
//!
//! A record carries what its line carries: an event's message as the body, its fields and
//! the fields it inherits from its spans as attributes; a span line's span name as the
//! body, `span_event` and (on the close line) `latency_ms` as attributes, with the span's
//! own and inherited fields. The queue is bounded (`OTEL_BLRP_MAX_QUEUE_SIZE`); what does
//! not fit is dropped and counted in `observe_log_records_dropped_total`.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::InstrumentationScope;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord, SdkLoggerProvider};
use tracing::Dispatch;
use tracing_core::field::Field;
use tracing_core::{Event, Level};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::config::{LogsExport, Protocol};
use crate::context::{SpanId, SpanRecord, TraceId, visit_scope};
use crate::fields::is_span_local;
use crate::losses::ExportFailures;
use crate::otlp::queue::Queue;
use crate::otlp::{ExportError, builders, resource, runtime};
use crate::value::{FieldValue, FieldValues, Text};

/// One captured line.
#[derive(Debug)]
pub(crate) struct Captured {
    at: SystemTime,
    level: Level,
    body: Option<Text>,
    target: &'static str,
    ids: Option<(TraceId, SpanId)>,
    attributes: Vec<(&'static str, FieldValue)>,
}

/// Where the log signal queues its records: a handle on a running [`LogExport`].
#[derive(Clone, Debug)]
pub struct LogRecordSink {
    queue: Arc<Queue<Captured>>,
}

impl LogRecordSink {
    /// Records dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Captures an event's line: its message, fields, and the fields in scope of `span`.
    pub(crate) fn event<'a, R: LookupSpan<'a>>(
        &self,
        event: &Event<'_>,
        span: Option<&SpanRef<'a, R>>,
    ) {
        let metadata = event.metadata();
        let mut captured = Captured {
            at: SystemTime::now(),
            level: *metadata.level(),
            body: None,
            target: metadata.target(),
            ids: None,
            attributes: Vec::with_capacity(metadata.fields().len() + 4),
        };
        // The message becomes the body.
        event.record(&mut FieldValues(|field: &Field, value: FieldValue| {
            if field.name() == "message" {
                captured.body = Some(value.into_text());
            } else {
                captured.attributes.push((field.name(), value));
            }
        }));
        if let Some(span) = span {
            let mut seen: Vec<&'static str> = captured.attributes.iter().map(|(k, _)| *k).collect();
            let mut ids = None;
            if let Some(record) = span.extensions().get::<SpanRecord>() {
                ids = Some((record.trace_id(), record.propagated_span_id()));
            }
            captured.ids = ids;
            visit_scope(span, &mut seen, |field| {
                if !is_span_local(field.name) {
                    captured.attributes.push((field.name, field.value.clone()));
                }
            });
        }
        self.queue.push(captured);
    }

    /// Captures a span line: the span's name, `span_event`, the latency on close, and the
    /// span's fields then those it inherits.
    pub(crate) fn span_line<'a, R: LookupSpan<'a>>(
        &self,
        span: &SpanRef<'a, R>,
        record: &SpanRecord,
        closing: bool,
    ) {
        let at = match record.latency().filter(|_| closing) {
            Some(latency) => record.started() + latency,
            None if closing => Instant::now(),
            None => record.started(),
        };
        let name = record
            .field(crate::fields::OTEL_NAME)
            .and_then(FieldValue::as_str)
            .unwrap_or(span.metadata().name());
        let mut attributes = Vec::with_capacity(record.fields().len() + 4);
        attributes.push((
            "span_event",
            FieldValue::from(if closing { "close_span" } else { "new_span" }),
        ));
        if let Some(latency) = record.latency().filter(|_| closing) {
            attributes.push(("latency_ms", FieldValue::F64(latency.as_secs_f64() * 1e3)));
        }
        for field in record.fields() {
            attributes.push((field.name, field.value.clone()));
        }
        if let Some(parent) = span.parent() {
            let mut seen: Vec<&'static str> = record.fields().iter().map(|f| f.name).collect();
            visit_scope(&parent, &mut seen, |field| {
                if !is_span_local(field.name) {
                    attributes.push((field.name, field.value.clone()));
                }
            });
        }
        self.queue.push(Captured {
            at: crate::log::timestamp::wall_time_at(at),
            level: *span.metadata().level(),
            body: Some(Text::from(name)),
            target: span.metadata().target(),
            ids: Some((record.trace_id(), record.propagated_span_id())),
            attributes,
        });
    }
}

/// A running OTLP logs export: the queue, its thread and opentelemetry-otlp's exporter.
/// [`shutdown`](Self::shutdown) (or dropping it) exports what is queued.
pub struct LogExport {
    sink: LogRecordSink,
    failures: Arc<ExportFailures>,
    done: Mutex<Option<mpsc::Receiver<()>>>,
}

impl std::fmt::Debug for LogExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogExport")
            .field("dropped_records", &self.dropped_records())
            .field("failed_exports", &self.failures.count())
            .finish_non_exhaustive()
    }
}

impl LogExport {
    /// Starts exporting to the collector `settings` names.
    ///
    /// # Errors
    /// [`ExportError`] when the thread, its runtime or the exporter cannot be set up.
    pub fn start(settings: &LogsExport) -> Result<LogExport, ExportError> {
        let runtime = runtime::runtime()?;
        let exporter = match runtime::build_in(&runtime, || exporter(settings)) {
            Ok(exporter) => exporter,
            Err(e) => {
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let queue = Arc::new(Queue::new(
            settings.batch.max_queue_size,
            settings.batch.max_export_batch_size,
        ));
        let failures = Arc::new(ExportFailures::new(
            "logs",
            crate::config::redact_userinfo(&settings.target.endpoint),
        ));
        let worker = Worker {
            queue: queue.clone(),
            exporter,
            runtime,
            delay: settings.batch.schedule_delay,
            timeout: settings.batch.export_timeout,
            failures: failures.clone(),
            // A logger of a provider with no processor: it only makes records.
            logger_provider: SdkLoggerProvider::builder().build(),
            scope: InstrumentationScope::builder("observe")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        };
        let (done_tx, done) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name(format!("{}-logs", runtime::THREAD_NAME))
            .spawn(move || {
                let _quiet = tracing::dispatcher::set_default(&Dispatch::none());
                worker.run();
                let _ = done_tx.send(());
            })
            .map_err(ExportError::Runtime)?;
        queue.set_worker(thread.thread().clone());
        Ok(LogExport {
            sink: LogRecordSink { queue },
            failures,
            done: Mutex::new(Some(done)),
        })
    }

    /// The handle the log signal queues records through.
    pub fn sink(&self) -> LogRecordSink {
        self.sink.clone()
    }

    /// Records dropped because the queue was full.
    pub fn dropped_records(&self) -> u64 {
        self.sink.queue.dropped()
    }

    pub(crate) fn failures(&self) -> Arc<ExportFailures> {
        self.failures.clone()
    }

    /// Exports everything queued now, waiting at most `timeout`.
    pub fn force_flush(&self, timeout: Duration) -> bool {
        self.sink.queue.flush(timeout)
    }

    /// Exports what is queued and stops, waiting at most `timeout`; `false` when it took
    /// longer.
    pub fn shutdown(&mut self, timeout: Duration) -> bool {
        let done = self.done.get_mut().unwrap_or_else(PoisonError::into_inner);
        let Some(done) = done.take() else {
            return true;
        };
        self.sink
            .queue
            .closing
            .store(true, std::sync::atomic::Ordering::Release);
        self.sink.queue.wake();
        done.recv_timeout(timeout).is_ok()
    }
}

impl Drop for LogExport {
    fn drop(&mut self) {
        self.shutdown(Duration::from_secs(5));
    }
}

fn exporter(settings: &LogsExport) -> Result<opentelemetry_otlp::LogExporter, ExportError> {
    let target = &settings.target;
    let builder = opentelemetry_otlp::LogExporter::builder();
    let exporter = match target.protocol {
        Protocol::Grpc => builders::tonic(builder.with_tonic(), target).build(),
        Protocol::HttpProtobuf => builders::http(builder.with_http(), target)?.build(),
    };
    let mut exporter = exporter.map_err(ExportError::Exporter)?;
    exporter.set_resource(&resource::sdk(&settings.resource));
    Ok(exporter)
}

struct Worker {
    queue: Arc<Queue<Captured>>,
    exporter: opentelemetry_otlp::LogExporter,
    runtime: tokio::runtime::Runtime,
    delay: Duration,
    timeout: Duration,
    failures: Arc<ExportFailures>,
    logger_provider: SdkLoggerProvider,
    scope: InstrumentationScope,
}

impl Worker {
    fn run(self) {
        let logger = self.logger_provider.logger_with_scope(self.scope.clone());
        let mut taken = Vec::with_capacity(self.queue.batch);
        loop {
            let closing = self
                .queue
                .closing
                .load(std::sync::atomic::Ordering::Acquire);
            if !closing && self.queue.len() < self.queue.batch {
                thread::park_timeout(self.delay);
            }
            let flush = self.queue.flush_requests();
            let closing = self
                .queue
                .closing
                .load(std::sync::atomic::Ordering::Acquire);
            self.queue.take_batches(&mut taken, |batch| {
                let records: Vec<SdkLogRecord> = batch
                    .into_iter()
                    .map(|captured| {
                        let mut record = logger.create_log_record();
                        fill(&mut record, captured);
                        record
                    })
                    .collect();
                self.export(&records);
            });
            self.queue.flushed(flush);
            if closing && self.queue.len() == 0 {
                break;
            }
        }
        let _ = self.exporter.shutdown_with_timeout(self.timeout);
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }

    fn export(&self, records: &[SdkLogRecord]) {
        let pairs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
            records.iter().map(|record| (record, &self.scope)).collect();
        let timeout = self.timeout;
        let result = self.runtime.block_on(async {
            tokio::time::timeout(timeout, self.exporter.export(LogBatch::new(&pairs))).await
        });
        match result {
            Ok(Ok(())) => self.failures.succeeded(),
            Ok(Err(error)) => self.failures.failed(records.len(), &error),
            Err(_) => self.failures.failed(
                records.len(),
                &format_args!("no answer within {timeout:?} (OTEL_BLRP_EXPORT_TIMEOUT)"),
            ),
        }
    }
}

/// The SDK record of a captured line.
fn fill(record: &mut SdkLogRecord, captured: Captured) {
    record.set_timestamp(captured.at);
    record.set_observed_timestamp(captured.at);
    let (number, text) = severity(captured.level);
    record.set_severity_number(number);
    record.set_severity_text(text);
    record.set_target(captured.target);
    if let Some(body) = captured.body {
        record.set_body(AnyValue::from(body.to_string()));
    }
    if let Some((trace_id, span_id)) = captured.ids {
        record.set_trace_context(
            opentelemetry::trace::TraceId::from_bytes(trace_id.to_bytes()),
            opentelemetry::trace::SpanId::from_bytes(span_id.to_bytes()),
            None,
        );
    }
    for (key, value) in captured.attributes {
        record.add_attribute(key, any_value(&value));
    }
}

/// The OpenTelemetry severity of a level.
fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::ERROR => (Severity::Error, "ERROR"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::TRACE => (Severity::Trace, "TRACE"),
    }
}

/// A field value as a typed log attribute (as span attributes are typed).
fn any_value(value: &FieldValue) -> AnyValue {
    match crate::trace::value(value) {
        opentelemetry::Value::Bool(v) => AnyValue::Boolean(v),
        opentelemetry::Value::I64(v) => AnyValue::Int(v),
        opentelemetry::Value::F64(v) => AnyValue::Double(v),
        other => AnyValue::String(other.as_str().into_owned().into()),
    }
}
