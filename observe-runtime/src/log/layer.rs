//! The log layer: one line per span open, span close and event, in DESIGN.md's key order.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::encode::{
    Format, is_plain_static_key, is_plain_static_value, latency_ms_text, write_i64, write_i128,
    write_key, write_u64, write_u128,
};
use super::json::JsonEncoder;
use super::logfmt::LogfmtEncoder;
use super::timestamp::{rfc3339_micros, wall_time_at};
use super::writer::LineSink;
use crate::context::{
    CONTEXT_NAMES, EncodedContext, SpanField, SpanRecord, Store, close_record, fields_generation,
    visit_scope,
};
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

    /// For `init`, which puts an unfiltered context layer inside this one: the context
    /// layer keeps every record, so this layer's own store never needs to.
    pub(crate) fn behind_context(mut self) -> Self {
        self.store = self.store.deferring();
        self
    }

    /// Takes trace and span ids from tracing-opentelemetry (see
    /// [`ContextLayer::with_otel_ids`](crate::context::ContextLayer::with_otel_ids)); only
    /// matters when no context layer sits inside this one.
    pub fn with_otel_ids(mut self) -> Self {
        self.store = self.store.with_otel_ids(true);
        self
    }

    /// Builds one line in the thread's reused buffer and hands it to the sink.
    fn emit(&self, build: impl FnOnce(&mut Vec<u8>)) {
        // One buffer per thread, reused; a value whose Debug impl logs re-enters here
        // and gets a fresh buffer rather than a panic.
        BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => {
                buffer.clear();
                build(&mut buffer);
                self.sink.write_line(&buffer);
            }
            Err(_) => {
                let mut buffer = Vec::with_capacity(256);
                build(&mut buffer);
                self.sink.write_line(&buffer);
            }
        });
    }

    /// The `new_span` line; keeps the encoding of the span's own fields in its record for
    /// the close line.
    fn open_line<'a, R: LookupSpan<'a>>(&self, span: &SpanRef<'a, R>, record: &mut SpanRecord) {
        fn open<'a, F: Format, R: LookupSpan<'a>>(
            out: &mut Vec<u8>,
            span: &SpanRef<'a, R>,
            record: &mut SpanRecord,
        ) {
            let own = span_line::<F, R>(out, span, record, false);
            record.encoded_fields.set(format_tag::<F>(), &out[own]);
        }
        match self.format {
            LogFormat::Logfmt => self.emit(|out| open::<LogfmtEncoder, R>(out, span, record)),
            LogFormat::Json => self.emit(|out| open::<JsonEncoder, R>(out, span, record)),
            LogFormat::Off => {}
        }
    }

    /// The `close_span` line.
    fn close_line<'a, R: LookupSpan<'a>>(&self, span: &SpanRef<'a, R>, record: &SpanRecord) {
        match self.format {
            LogFormat::Logfmt => self.emit(|out| {
                span_line::<LogfmtEncoder, R>(out, span, record, true);
            }),
            LogFormat::Json => self.emit(|out| {
                span_line::<JsonEncoder, R>(out, span, record, true);
            }),
            LogFormat::Off => {}
        }
    }

    fn event_line<'a, R: LookupSpan<'a>>(&self, event: &Event<'_>, span: Option<&SpanRef<'a, R>>) {
        match self.format {
            LogFormat::Logfmt => self.emit(|out| event_line::<LogfmtEncoder, R>(out, event, span)),
            LogFormat::Json => self.emit(|out| event_line::<JsonEncoder, R>(out, event, span)),
            LogFormat::Off => {}
        }
    }
}

/// Writes a key known at compile time (`[A-Za-z0-9_]` only, never first on the line), with
/// its separator: one constant copy.
macro_rules! lit_key {
    ($f:ty, $out:expr, $key:literal) => {
        $out.extend_from_slice(if <$f>::JSON {
            concat!(",\"", $key, "\":").as_bytes()
        } else {
            concat!(" ", $key, "=").as_bytes()
        })
    };
}

/// Starts the line with its first key, `level`.
#[inline]
fn level_first<F: Format>(out: &mut Vec<u8>, level: &Level) {
    macro_rules! level {
        ($name:literal) => {
            if F::JSON {
                concat!("{\"level\":\"", $name, "\"").as_bytes()
            } else {
                concat!("level=", $name).as_bytes()
            }
        };
    }
    out.extend_from_slice(match *level {
        Level::ERROR => level!("error"),
        Level::WARN => level!("warn"),
        Level::INFO => level!("info"),
        Level::DEBUG => level!("debug"),
        Level::TRACE => level!("trace"),
    });
}

#[inline]
fn finish<F: Format>(out: &mut Vec<u8>) {
    if F::JSON {
        out.extend_from_slice(b"}\n");
    } else {
        out.push(b'\n');
    }
}

/// A field name (or another `'static` key) with its separator, sanitised as
/// [`write_key`](super::encode::write_key) does; the check is cached per name.
#[inline]
fn static_key<F: Format>(out: &mut Vec<u8>, key: &'static str) {
    out.extend_from_slice(if F::JSON { b",\"" } else { b" " });
    if is_plain_static_key(key) {
        out.extend_from_slice(key.as_bytes());
    } else {
        write_key(out, key);
    }
    out.extend_from_slice(if F::JSON { b"\":" } else { b"=" });
}

/// A value that needs no quoting or escaping (ids, timestamps, keywords).
#[inline]
fn plain_value<F: Format>(out: &mut Vec<u8>, value: &[u8]) {
    if F::JSON {
        out.push(b'"');
        out.extend_from_slice(value);
        out.push(b'"');
    } else {
        out.extend_from_slice(value);
    }
}

/// A `'static` text value (span name, target); whether it needs quoting is cached.
#[inline]
fn static_str_value<F: Format>(out: &mut Vec<u8>, value: &'static str) {
    if is_plain_static_value(value) {
        plain_value::<F>(out, value.as_bytes());
    } else {
        F::str_value(out, value);
    }
}

/// Lowercase hex of an id (8 or 16 bytes), fixed width.
#[inline]
fn hex_value<F: Format, const N: usize>(out: &mut Vec<u8>, bytes: [u8; N]) {
    let mut buf = [0u8; 32];
    for (chunk, text) in bytes.chunks_exact(8).zip(buf.chunks_exact_mut(16)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        text.copy_from_slice(&hex8(word));
    }
    plain_value::<F>(out, &buf[..2 * N]);
}

/// Eight bytes as sixteen lowercase hex digits, without a loop or a table: the nibbles are
/// spread one per byte of a `u128`, then turned into ASCII all at once.
#[inline]
fn hex8(bytes: [u8; 8]) -> [u8; 16] {
    /// Moves byte `i` of `x` to byte `2 i` of the result.
    #[inline]
    fn spread(x: u64) -> u128 {
        let mut x = u128::from(x);
        x = (x | x << 32) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
        x = (x | x << 16) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
        x = (x | x << 8) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
        x
    }
    const LOW_NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const ONES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
    let x = u64::from_le_bytes(bytes);
    // Byte 2i: high nibble of bytes[i]; byte 2i+1: its low nibble.
    let nibbles = spread((x >> 4) & LOW_NIBBLES) | spread(x & LOW_NIBBLES) << 8;
    // 1 in each byte whose nibble is 10 or more (nibble + 6 carries into bit 4).
    let letters = ((nibbles + 6 * ONES) >> 4) & ONES;
    (nibbles + u128::from(b'0') * ONES + letters * u128::from(b'a' - b'0' - 10)).to_le_bytes()
}

/// Tells the formats' encodings apart in [`SpanRecord::encoded_fields`].
fn format_tag<F: Format>() -> u8 {
    if F::JSON { 2 } else { 1 }
}

/// Writes a span line; returns where in `out` the span's own fields are.
fn span_line<'a, F: Format, R: LookupSpan<'a>>(
    out: &mut Vec<u8>,
    span: &SpanRef<'a, R>,
    record: &SpanRecord,
    closing: bool,
) -> Range<usize> {
    let metadata = span.metadata();
    out.reserve(384);
    level_first::<F>(out, metadata.level());
    lit_key!(F, out, "span_name");
    // `otel.name` names spans whose name is only known at run time (HTTP routes).
    match record
        .field(crate::fields::OTEL_NAME)
        .and_then(FieldValue::as_str)
    {
        Some(name) => F::str_value(out, name),
        None => static_str_value::<F>(out, metadata.name()),
    }
    lit_key!(F, out, "span");
    hex_value::<F, 8>(out, record.span_id().to_bytes());
    if let Some(parent) = record.parent_span_id() {
        lit_key!(F, out, "parent_span");
        hex_value::<F, 8>(out, parent.to_bytes());
    }
    lit_key!(F, out, "span_event");
    plain_value::<F>(out, if closing { b"close_span" } else { b"new_span" });
    // The line is about the span's start or end, instants the record holds: their wall
    // time costs no clock read.
    let at = match record.latency().filter(|_| closing) {
        Some(latency) => record.started() + latency,
        None if closing => Instant::now(),
        None => record.started(),
    };
    lit_key!(F, out, "timestamp");
    plain_value::<F>(out, &rfc3339_micros(wall_time_at(at)));
    lit_key!(F, out, "trace_id");
    hex_value::<F, 16>(out, record.trace_id().to_bytes());
    if let Some(latency) = record.latency().filter(|_| closing) {
        let mut number = [0; 40];
        lit_key!(F, out, "latency_ms");
        out.extend_from_slice(latency_ms_text(latency, &mut number).as_bytes());
    }
    let own = write_own_then_inherited::<F, R>(out, span, record, closing);
    finish::<F>(out);
    own
}

fn event_line<'a, F: Format, R: LookupSpan<'a>>(
    out: &mut Vec<u8>,
    event: &Event<'_>,
    span: Option<&SpanRef<'a, R>>,
) {
    with_seen(|seen| {
        let metadata = event.metadata();
        out.reserve(384);
        level_first::<F>(out, metadata.level());
        let fields_start = out.len();
        let mut fields = EventFields::<F> {
            out: &mut *out,
            seen: &mut *seen,
            fields_start,
            message: None,
            _format: PhantomData,
        };
        event.record(&mut fields);
        lit_key!(F, out, "target");
        static_str_value::<F>(out, metadata.target());
        if let (Some(file), Some(line)) = (metadata.file(), metadata.line()) {
            location::<F>(out, file, line);
        }
        lit_key!(F, out, "timestamp");
        timestamp_value::<F>(out);
        if let Some(span) = span {
            event_context::<F, R>(out, span, seen);
        }
        finish::<F>(out);
    })
}

/// Whether an event line writes `name` itself: an event field of that name is left out.
#[inline]
fn is_event_line_key(name: &str) -> bool {
    matches!(
        name,
        "level" | "msg" | "target" | "location" | "timestamp" | "span" | "trace_id"
    )
}

/// Whether a span line writes `name` itself.
#[inline]
fn is_span_line_key(name: &str) -> bool {
    matches!(
        name,
        "level"
            | "span_name"
            | "span"
            | "parent_span"
            | "span_event"
            | "timestamp"
            | "trace_id"
            | "latency_ms"
    )
}

/// An event's `span`, `trace_id` and the fields in scope. To an event, even its own span's
/// fields are inherited context.
///
/// The encoding is kept in the span's record at the first event and copied by the next
/// ones, unless a span's fields changed since or the event has a field of the same name as
/// one in it (the event's own field wins, so the encoding would differ).
fn event_context<'a, F: Format, R: LookupSpan<'a>>(
    out: &mut Vec<u8>,
    span: &SpanRef<'a, R>,
    event_names: &[&'static str],
) {
    let generation = fields_generation();
    let format = format_tag::<F>();
    {
        let extensions = span.extensions();
        let Some(record) = extensions.get::<SpanRecord>() else {
            drop(extensions);
            return write_context::<F, R>(out, span, &mut event_names.to_vec());
        };
        if let Some(cached) = &record.event_context
            && cached.format == format
            && cached.generation == generation
        {
            if cached.names().iter().any(|name| event_names.contains(name)) {
                drop(extensions);
                return write_context::<F, R>(out, span, &mut event_names.to_vec());
            }
            out.extend_from_slice(&cached.bytes);
            return;
        }
    }
    // Not kept yet (or stale): encode it as any event without colliding names sees it.
    let start = out.len();
    let mut names = Vec::with_capacity(CONTEXT_NAMES);
    write_context::<F, R>(out, span, &mut names);
    if names.iter().any(|name| event_names.contains(name)) {
        out.truncate(start);
        return write_context::<F, R>(out, span, &mut event_names.to_vec());
    }
    if names.len() <= CONTEXT_NAMES {
        let mut kept = [""; CONTEXT_NAMES];
        kept[..names.len()].copy_from_slice(&names);
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>() {
            record.event_context = Some(Box::new(EncodedContext {
                format,
                generation,
                names: kept,
                name_count: names.len(),
                bytes: out[start..].into(),
            }));
        }
    }
}

/// Writes [`event_context`] from the records, skipping (and adding to `seen`) names
/// already written.
fn write_context<'a, F: Format, R: LookupSpan<'a>>(
    out: &mut Vec<u8>,
    span: &SpanRef<'a, R>,
    seen: &mut Vec<&'static str>,
) {
    let mut first = true;
    for ancestor in span.scope() {
        let extensions = ancestor.extensions();
        let own = std::mem::take(&mut first);
        let Some(record) = extensions.get::<SpanRecord>() else {
            continue;
        };
        if own {
            lit_key!(F, out, "span");
            hex_value::<F, 8>(out, record.span_id().to_bytes());
            lit_key!(F, out, "trace_id");
            hex_value::<F, 16>(out, record.trace_id().to_bytes());
        }
        for field in record.fields() {
            if is_span_local(field.name)
                || is_event_line_key(field.name)
                || seen.contains(&field.name)
            {
                continue;
            }
            seen.push(field.name);
            write_field::<F>(out, field);
        }
    }
}

/// The span's own fields come from `record` (already borrowed by the caller); its
/// ancestors are read through the registry.
fn write_own_then_inherited<'a, F: Format, R: LookupSpan<'a>>(
    out: &mut Vec<u8>,
    span: &SpanRef<'a, R>,
    record: &SpanRecord,
    closing: bool,
) -> Range<usize> {
    let fields = record.fields();
    let start = out.len();
    // The close line repeats the open line's own fields unless one was recorded since.
    match record
        .encoded_fields
        .get(format_tag::<F>())
        .filter(|_| closing)
    {
        Some(encoded) => out.extend_from_slice(encoded),
        None => {
            // Own fields: a handful, so the first-wins check is a scan of those before, and
            // a root span (no ancestors to dedup against) needs no `seen` list at all.
            for (i, field) in fields.iter().enumerate() {
                if !is_span_line_key(field.name)
                    && !fields[..i].iter().any(|f| f.name == field.name)
                {
                    write_field::<F>(out, field);
                }
            }
        }
    }
    let own = start..out.len();
    if let Some(parent) = span.parent() {
        with_seen(|seen| {
            seen.extend_from_slice(SPAN_LINE_KEYS);
            seen.extend(fields.iter().map(|f| f.name));
            visit_scope(&parent, seen, |field| {
                if !is_span_local(field.name) {
                    write_field::<F>(out, field);
                }
            });
        });
    }
    own
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

fn timestamp_value<F: Format>(out: &mut Vec<u8>) {
    // Digits, '-', ':', 'T', '.' and 'Z' only.
    plain_value::<F>(out, &rfc3339_micros(std::time::SystemTime::now()));
}

/// `location=file:line`; the file's need for quoting is cached per path.
fn location<F: Format>(out: &mut Vec<u8>, file: &'static str, line: u32) {
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
    lit_key!(F, out, "location");
    if is_plain_static_value(file) {
        if F::JSON {
            out.push(b'"');
        }
        out.extend_from_slice(file.as_bytes());
        out.push(b':');
        out.extend_from_slice(&digits_buf[i..]);
        if F::JSON {
            out.push(b'"');
        }
    } else {
        F::display_value(out, &format_args!("{file}:{line}"));
    }
}

#[inline]
fn write_field<F: Format>(out: &mut Vec<u8>, field: &SpanField) {
    static_key::<F>(out, field.name);
    write_value::<F>(out, &field.value);
}

#[inline]
fn write_value<F: Format>(out: &mut Vec<u8>, value: &FieldValue) {
    match value {
        FieldValue::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        FieldValue::I64(v) => write_i64(out, *v),
        FieldValue::U64(v) => write_u64(out, *v),
        FieldValue::I128(v) => write_i128(out, *v),
        FieldValue::U128(v) => write_u128(out, *v),
        FieldValue::F64(v) => F::f64_value(out, *v),
        FieldValue::Str(v) => F::str_value(out, v),
    }
}

/// Writes an event's fields straight into the line, `msg` first: fields visited before the
/// message are moved behind it once it is written (each field is one `<sep>key=value`
/// segment, so the move keeps the line well formed).
struct EventFields<'o, F> {
    out: &'o mut Vec<u8>,
    seen: &'o mut Vec<&'static str>,
    /// Where the first field segment starts (just after `level`).
    fields_start: usize,
    /// The message was written, at this offset.
    message: Option<usize>,
    _format: PhantomData<F>,
}

impl<F: Format> EventFields<'_, F> {
    /// The key to write `field` under, if it is to be written; writes the key.
    #[inline]
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if name == "message" {
            if self.message.is_some() {
                return false;
            }
            self.message = Some(self.out.len());
            lit_key!(F, self.out, "msg");
            return true;
        }
        if is_event_line_key(name) || self.seen.contains(&name) {
            return false;
        }
        self.seen.push(name);
        static_key::<F>(self.out, name);
        true
    }

    /// After a value: if it was the message and other fields came first, rotate it ahead.
    #[inline]
    fn done(&mut self) {
        if let Some(at) = self.message
            && at != self.fields_start
            && self.out.len() > at
        {
            let len = self.out.len() - at;
            self.out[self.fields_start..].rotate_right(len);
            self.message = Some(self.fields_start);
        }
    }
}

impl<F: Format> Visit for EventFields<'_, F> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.key(field) {
            F::f64_value(self.out, value);
            self.done();
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field) {
            write_i64(self.out, value);
            self.done();
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.key(field) {
            write_u64(self.out, value);
            self.done();
        }
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.key(field) {
            write_i128(self.out, value);
            self.done();
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.key(field) {
            write_u128(self.out, value);
            self.done();
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field) {
            self.out
                .extend_from_slice(if value { b"true" } else { b"false" });
            self.done();
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            F::str_value(self.out, value);
            self.done();
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.key(field) {
            F::display_value(self.out, value);
            self.done();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.key(field) {
            F::debug_value(self.out, value);
            self.done();
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
        let Some(span) = ctx.span(id) else { return };
        self.store.create(attrs, id, &span);
        // Written under the write lock, to keep the encoded fields in the record (ancestors
        // are only read while a descendant is locked, never the other way round).
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>() {
            self.open_line(&span, record);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.store.on_record(id, values, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.store.on_event(event, &ctx);
        let span = ctx.event_span(event);
        self.event_line(event, span.as_ref());
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // Fix the latency first, then write with a shared borrow so that reading the
        // ancestors' records cannot dead-lock on this span's extensions.
        close_record(&span, |_| ());
        let extensions = span.extensions();
        if let Some(record) = extensions.get::<SpanRecord>() {
            self.close_line(&span, record);
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn span_line_keys() {
        for key in SPAN_LINE_KEYS {
            assert!(is_span_line_key(key), "{key}");
        }
        for other in ["msg", "span_names", "", "user", "parent"] {
            assert!(!is_span_line_key(other), "{other}");
        }
    }

    #[test]
    fn event_line_keys() {
        for key in [
            "level",
            "msg",
            "target",
            "location",
            "timestamp",
            "span",
            "trace_id",
        ] {
            assert!(is_event_line_key(key), "{key}");
        }
        for other in ["message", "span_name", "levels", "", "user"] {
            assert!(!is_event_line_key(other), "{other}");
        }
    }

    #[test]
    fn hex8_matches_fmt() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for v in [
                x,
                0,
                u64::MAX,
                x & 0x0a0a_0a0a_0a0a_0a0a,
                x | 0x9999_9999_9999_9999,
            ] {
                let text = hex8(v.to_be_bytes());
                assert_eq!(std::str::from_utf8(&text).unwrap(), format!("{v:016x}"));
            }
        }
    }

    #[test]
    fn hex_is_lowercase_fixed_width() {
        let mut out = Vec::new();
        hex_value::<LogfmtEncoder, 8>(&mut out, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert_eq!(out, b"00f067aa0ba902b7");
        let id = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128;
        out.clear();
        hex_value::<JsonEncoder, 16>(&mut out, id.to_be_bytes());
        assert_eq!(out, format!("\"{id:032x}\"").as_bytes());
    }

    #[test]
    fn static_keys_and_values_are_checked_once_and_stay_right() {
        for _ in 0..2 {
            let mut out = Vec::new();
            static_key::<LogfmtEncoder>(&mut out, "a b");
            static_str_value::<LogfmtEncoder>(&mut out, "x y");
            static_key::<LogfmtEncoder>(&mut out, "ok.key");
            static_str_value::<LogfmtEncoder>(&mut out, "plain");
            static_key::<JsonEncoder>(&mut out, "q");
            static_str_value::<JsonEncoder>(&mut out, "say \"hi\"");
            assert_eq!(out, b" a_b=\"x y\" ok.key=plain,\"q\":\"say \\\"hi\\\"\"");
        }
    }
}
