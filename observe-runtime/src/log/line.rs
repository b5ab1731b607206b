//! Line assembly: a span's `new_span` and `close_span` lines and an event's line, with their
//! keys in the order `docs/reference.md` gives, and the context inherited from the span's
//! ancestors.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::time::Instant;

use tracing_core::Event;
use tracing_core::field::{Field, Visit};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::cache::{CONTEXT_NAMES, EncodedContext};
use super::encode::{Format, latency_ms_text, write_i64, write_i128, write_u64, write_u128};
use super::primitives::{
    finish, hex_raw, hex_value, level_first, lit_key, location, plain_value, static_key,
    static_str_value, timestamp_value, write_field,
};
use super::timestamp::{rfc3339_micros, wall_time_at};
use crate::context::{SpanRecord, fields_generation, visit_scope};
use crate::fields::is_span_local;
use crate::value::FieldValue;

/// Keys a span line writes itself; a span field of the same name is left out of the line so
/// that a key appears once.
const SPAN_LINE_KEYS: &[&str] = &[
    "level",
    "span_name",
    "span",
    "parent_span",
    "span_event",
    "timestamp",
    "trace_id",
    "links",
    "latency_ms",
];

/// Tells the formats' encodings apart in a span's [`SpanLogCache`](super::cache::SpanLogCache).
pub(crate) fn format_tag<F: Format>() -> u8 {
    if F::JSON { 2 } else { 1 }
}

/// Writes a span line; returns where in `out` the span's own fields are.
pub(crate) fn span_line<'a, F: Format, R: LookupSpan<'a>>(
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
    if !record.links().is_empty() {
        links::<F>(out, record);
    }
    if let Some(latency) = record.latency().filter(|_| closing) {
        let mut number = [0; 40];
        lit_key!(F, out, "latency_ms");
        out.extend_from_slice(latency_ms_text(latency, &mut number).as_bytes());
    }
    let own = write_own_then_inherited::<F, R>(out, span, record, closing);
    finish::<F>(out);
    own
}

pub(crate) fn event_line<'a, F: Format, R: LookupSpan<'a>>(
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
            | "links"
            | "latency_ms"
    )
}

/// `links=<trace id>:<span id>,…`: the spans this one follows from, so that grepping the
/// spawning request's trace id finds the spawned work too.
fn links<F: Format>(out: &mut Vec<u8>, record: &SpanRecord) {
    lit_key!(F, out, "links");
    if F::JSON {
        out.push(b'"');
    }
    for (i, link) in record.links().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        hex_raw(out, link.trace_id.to_bytes());
        out.push(b':');
        hex_raw(out, link.span_id.to_bytes());
    }
    if F::JSON {
        out.push(b'"');
    }
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
        if let Some(cached) = &record.log.event_context
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
            record.log.event_context = Some(Box::new(EncodedContext {
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
        .log
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

thread_local! {
    static SEEN: RefCell<Vec<&'static str>> = RefCell::new(Vec::with_capacity(32));
}

#[cfg(test)]
mod tests {
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
}
