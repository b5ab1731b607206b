//! The log layer: one line per span open, span close and event, in DESIGN.md's key order.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::encode::{LineEncoder, hex, latency_ms_text};
use super::json::JsonEncoder;
use super::logfmt::LogfmtEncoder;
use super::timestamp::rfc3339_micros;
use super::writer::LineSink;
use crate::context::{SpanField, SpanRecord, Store, close_record, visit_scope, with_record};
use crate::fields::is_span_local;
use crate::value::FieldValue;

/// How log lines are encoded (`OBSERVE_LOG_FORMAT`).
///
/// ```
/// use observe_runtime::log::LogFormat;
///
/// assert_eq!(LogFormat::default(), LogFormat::Logfmt);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs, the default.
    #[default]
    Logfmt,
    /// One JSON object per line, same keys in the same order.
    Json,
    /// No lines at all: a layer set to it writes nothing, and `init` leaves it out.
    Off,
}

/// Keys the layer writes itself; a span field of the same name is left out of the line so
/// that a key appears once.
const SPAN_LINE_KEYS: &[&str] = &[
    "level",
    "span_name",
    "span",
    "parent_span",
    "span_event",
    "timestamp",
    "trace_id",
    "latency_ms",
];
const EVENT_LINE_KEYS: &[&str] = &[
    "level",
    "msg",
    "target",
    "location",
    "timestamp",
    "span",
    "trace_id",
];

/// A layer that writes logfmt or JSON lines carrying each span's context and trace id.
///
/// ```
/// use observe_runtime::log::{LogLayer, writer::MemorySink};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let sink = MemorySink::default();
/// let subscriber = tracing_subscriber::registry().with(LogLayer::new(sink.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("checkout", user = "ada").entered();
///     tracing::info!(items = 3, "paid");
/// });
/// let lines = sink.lines();
/// assert_eq!(lines.len(), 3); // new_span, the event, close_span
/// assert!(lines[1].starts_with("level=info msg=paid items=3 target="));
/// assert!(lines[1].contains(" user=ada"));
/// ```
pub struct LogLayer {
    store: Store,
    format: LogFormat,
    sink: Arc<dyn LineSink>,
}

impl fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayer")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl LogLayer {
    /// A logfmt layer writing to `sink`.
    pub fn new(sink: impl LineSink) -> Self {
        LogLayer {
            store: Store::default(),
            format: LogFormat::Logfmt,
            sink: Arc::new(sink),
        }
    }

    /// Chooses the line format.
    ///
    /// ```
    /// use observe_runtime::log::{LogFormat, LogLayer, writer::MemorySink};
    ///
    /// let layer = LogLayer::new(MemorySink::default()).with_format(LogFormat::Json);
    /// # drop(layer);
    /// ```
    pub fn with_format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// Takes trace and span ids from tracing-opentelemetry (see
    /// [`ContextLayer::with_otel_ids`](crate::context::ContextLayer::with_otel_ids)); only
    /// matters when no context layer sits inside this one.
    pub fn with_otel_ids(mut self) -> Self {
        self.store = self.store.with_otel_ids(true);
        self
    }

    fn write_line(&self, build: impl FnOnce(&dyn LineEncoder, &mut Vec<u8>)) {
        let encoder: &dyn LineEncoder = match self.format {
            LogFormat::Logfmt => &LogfmtEncoder::new(),
            LogFormat::Json => &JsonEncoder::new(),
            LogFormat::Off => return,
        };
        // One buffer per thread, reused; a value whose Debug impl logs re-enters here
        // and gets a fresh buffer rather than a panic.
        BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => {
                buffer.clear();
                build(encoder, &mut buffer);
                self.sink.write_line(&buffer);
            }
            Err(_) => {
                let mut buffer = Vec::with_capacity(256);
                build(encoder, &mut buffer);
                self.sink.write_line(&buffer);
            }
        });
    }

    fn span_line<'a, R: LookupSpan<'a>>(
        &self,
        span: &SpanRef<'a, R>,
        record: &SpanRecord,
        closing: bool,
    ) {
        self.write_line(|encoder, out| {
            let metadata = span.metadata();
            encoder.begin(out);
            encoder.plain_str(out, "level", level_str(metadata.level()));
            // `otel.name` names spans whose name is only known at run time (HTTP routes).
            let name = record
                .field(crate::fields::OTEL_NAME)
                .and_then(FieldValue::as_str)
                .unwrap_or(metadata.name());
            encoder.str(out, "span_name", name);
            let mut hex_buf = [0; 32];
            let span_id = record.span_id().to_bytes();
            encoder.plain_str(out, "span", hex(&span_id, &mut hex_buf));
            if let Some(parent) = record.parent_span_id() {
                let parent = parent.to_bytes();
                encoder.plain_str(out, "parent_span", hex(&parent, &mut hex_buf));
            }
            encoder.plain_str(
                out,
                "span_event",
                if closing { "close_span" } else { "new_span" },
            );
            timestamp(encoder, out);
            let trace_id = record.trace_id().to_bytes();
            encoder.plain_str(out, "trace_id", hex(&trace_id, &mut hex_buf));
            if let Some(latency) = record.latency().filter(|_| closing) {
                let mut number = [0; 40];
                encoder.raw_number(out, "latency_ms", latency_ms_text(latency, &mut number));
            }
            write_own_then_inherited(encoder, out, span, record);
            encoder.finish(out);
        });
    }
}

/// Whether a span line writes `name` itself.
fn is_span_line_key(name: &str) -> bool {
    SPAN_LINE_KEYS.contains(&name)
}

/// The span's own fields come from `record` (already borrowed by the caller); its
/// ancestors are read through the registry.
fn write_own_then_inherited<'a, R: LookupSpan<'a>>(
    encoder: &dyn LineEncoder,
    out: &mut Vec<u8>,
    span: &SpanRef<'a, R>,
    record: &SpanRecord,
) {
    let fields = record.fields();
    // Own fields: a handful, so the first-wins check is a scan of those before, and a root
    // span (no ancestors to dedup against) needs no `seen` list at all.
    for (i, field) in fields.iter().enumerate() {
        if !is_span_line_key(field.name) && !fields[..i].iter().any(|f| f.name == field.name) {
            write_field(encoder, out, field);
        }
    }
    if let Some(parent) = span.parent() {
        with_seen(|seen| {
            seen.extend_from_slice(SPAN_LINE_KEYS);
            seen.extend(fields.iter().map(|f| f.name));
            visit_scope(&parent, seen, |field| {
                if !is_span_local(field.name) {
                    write_field(encoder, out, field);
                }
            });
        });
    }
}

/// Runs `f` with an empty, reused list of names already written.
fn with_seen<T>(f: impl FnOnce(&mut Vec<&'static str>) -> T) -> T {
    SEEN.with(|cell| match cell.try_borrow_mut() {
        Ok(mut seen) => {
            seen.clear();
            f(&mut seen)
        }
        // Re-entered (a Debug impl that logs): a fresh list.
        Err(_) => f(&mut Vec::new()),
    })
}

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
    static SEEN: RefCell<Vec<&'static str>> = RefCell::new(Vec::with_capacity(32));
}

fn level_str(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

fn timestamp(encoder: &dyn LineEncoder, out: &mut Vec<u8>) {
    let text = rfc3339_micros(std::time::SystemTime::now());
    // Digits, '-', ':', 'T', '.' and 'Z' only.
    encoder.plain_str(
        out,
        "timestamp",
        std::str::from_utf8(&text).unwrap_or_default(),
    );
}

/// `file:line`, without `fmt` for the common case of a short path.
fn location(encoder: &dyn LineEncoder, out: &mut Vec<u8>, file: &str, line: u32) {
    let mut buf = [0u8; 160];
    if file.len() + 11 > buf.len() {
        encoder.display(out, "location", &format_args!("{file}:{line}"));
        return;
    }
    buf[..file.len()].copy_from_slice(file.as_bytes());
    buf[file.len()] = b':';
    let mut end = file.len() + 1;
    let mut digits_buf = [0u8; 10];
    let mut i = digits_buf.len();
    let mut v = line;
    loop {
        i -= 1;
        digits_buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let n = digits_buf.len() - i;
    buf[end..end + n].copy_from_slice(&digits_buf[i..]);
    end += n;
    // `file` was a &str and the rest is ASCII.
    encoder.str(
        out,
        "location",
        std::str::from_utf8(&buf[..end]).unwrap_or(file),
    );
}

fn write_field(encoder: &dyn LineEncoder, out: &mut Vec<u8>, field: &SpanField) {
    write_value(encoder, out, field.name, &field.value);
}

fn write_value(encoder: &dyn LineEncoder, out: &mut Vec<u8>, key: &str, value: &FieldValue) {
    match value {
        FieldValue::Bool(v) => encoder.bool(out, key, *v),
        FieldValue::I64(v) => encoder.i64(out, key, *v),
        FieldValue::U64(v) => encoder.u64(out, key, *v),
        FieldValue::I128(v) => encoder.i128(out, key, *v),
        FieldValue::U128(v) => encoder.u128(out, key, *v),
        FieldValue::F64(v) => encoder.f64(out, key, *v),
        FieldValue::Str(v) => encoder.str(out, key, v),
    }
}

/// Writes an event's fields straight into the line: the message on the first pass, the
/// other fields on the second, so that `msg` leads whatever order they were declared in.
struct EventFields<'a> {
    encoder: &'a dyn LineEncoder,
    out: &'a mut Vec<u8>,
    message_pass: bool,
    seen: &'a mut Vec<&'static str>,
}

impl EventFields<'_> {
    fn wants(&mut self, field: &Field) -> Option<&'static str> {
        let is_message = field.name() == "message";
        if is_message != self.message_pass {
            return None;
        }
        let key = if is_message { "msg" } else { field.name() };
        if !is_message && self.seen.contains(&key) {
            return None;
        }
        if !is_message {
            self.seen.push(key);
        }
        Some(key)
    }
}

impl Visit for EventFields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if let Some(key) = self.wants(field) {
            self.encoder.f64(self.out, key, value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some(key) = self.wants(field) {
            self.encoder.i64(self.out, key, value);
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some(key) = self.wants(field) {
            self.encoder.u64(self.out, key, value);
        }
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        if let Some(key) = self.wants(field) {
            self.encoder.i128(self.out, key, value);
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        if let Some(key) = self.wants(field) {
            self.encoder.u128(self.out, key, value);
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some(key) = self.wants(field) {
            self.encoder.bool(self.out, key, value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(key) = self.wants(field) {
            self.encoder.str(self.out, key, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if let Some(key) = self.wants(field) {
            self.encoder.display(self.out, key, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(key) = self.wants(field) {
            self.encoder.debug(self.out, key, value);
        }
    }
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.store.register(dispatch);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.store.on_new_span(attrs, id, &ctx);
        let Some(span) = ctx.span(id) else { return };
        let extensions = span.extensions();
        if let Some(record) = extensions.get::<SpanRecord>() {
            self.span_line(&span, record, false);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.store.on_record(id, values, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.store.on_event(event, &ctx);
        let span = ctx.event_span(event);
        self.write_line(|encoder, out| {
            with_seen(|seen| {
                let metadata = event.metadata();
                seen.extend_from_slice(EVENT_LINE_KEYS);
                encoder.begin(out);
                encoder.plain_str(out, "level", level_str(metadata.level()));
                for message_pass in [true, false] {
                    event.record(&mut EventFields {
                        encoder,
                        out,
                        message_pass,
                        seen,
                    });
                }
                encoder.str(out, "target", metadata.target());
                if let (Some(file), Some(line)) = (metadata.file(), metadata.line()) {
                    location(encoder, out, file, line);
                }
                timestamp(encoder, out);
                if let Some(span) = &span {
                    let ids = with_record(span, |record| (record.span_id(), record.trace_id()));
                    if let Some((span_id, trace_id)) = ids {
                        let mut hex_buf = [0; 32];
                        encoder.plain_str(out, "span", hex(&span_id.to_bytes(), &mut hex_buf));
                        let trace_id = trace_id.to_bytes();
                        encoder.plain_str(out, "trace_id", hex(&trace_id, &mut hex_buf));
                    }
                    // To an event, even its own span's fields are inherited context.
                    visit_scope(span, seen, |field| {
                        if !is_span_local(field.name) {
                            write_field(encoder, out, field);
                        }
                    });
                }
                encoder.finish(out);
            })
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // Fix the latency first, then write with a shared borrow so that reading the
        // ancestors' records cannot dead-lock on this span's extensions.
        close_record(&span, |_| ());
        let extensions = span.extensions();
        if let Some(record) = extensions.get::<SpanRecord>() {
            self.span_line(&span, record, true);
        }
    }
}
