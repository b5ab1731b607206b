//! What the trace signal collects in a span's record while the span is open: the events
//! that become span events.

use std::time::Instant;

use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Level};

use crate::value::{FieldValue, Text};

/// The trace signal's part of a span record.
#[derive(Debug, Default)]
pub(crate) struct SpanTraceData {
    pub(crate) events: Vec<SpanEvent>,
    /// Events past the span event count limit.
    pub(crate) dropped_events: u32,
}

/// An event inside the span, as the exported span event will carry it.
#[derive(Debug)]
pub(crate) struct SpanEvent {
    pub(crate) at: Instant,
    pub(crate) level: Level,
    pub(crate) target: &'static str,
    /// The message, if the event had one.
    pub(crate) message: Option<Text>,
    /// The `error` field (the `err` event of `#[observe(err)]`): the event is an exception.
    pub(crate) error: Option<Text>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
}

impl SpanTraceData {
    /// Keeps `event`, or counts it once `limit` events are kept: a span that logs without
    /// end keeps a bounded record.
    pub(crate) fn push(&mut self, event: &Event<'_>, limit: usize) {
        if self.events.len() >= limit {
            self.dropped_events = self.dropped_events.saturating_add(1);
            return;
        }
        let metadata = event.metadata();
        let mut captured = SpanEvent {
            at: Instant::now(),
            level: *metadata.level(),
            target: metadata.target(),
            message: None,
            error: None,
            fields: Vec::with_capacity(metadata.fields().len()),
        };
        event.record(&mut Capture(&mut captured));
        self.events.push(captured);
    }
}

/// Whether an event with these fields is the `err` event or another exception (an `error`
/// field), which is kept whatever its level.
pub(crate) fn is_exception(event: &Event<'_>) -> bool {
    event
        .metadata()
        .fields()
        .field(crate::fields::ERROR)
        .is_some()
}

struct Capture<'a>(&'a mut SpanEvent);

impl Capture<'_> {
    fn put(&mut self, field: &Field, value: FieldValue) {
        match field.name() {
            "message" => self.0.message = value.as_str().map(Text::from),
            crate::fields::ERROR => self.0.error = Some(Text::format(format_args!("{value}"))),
            name => self.0.fields.push((name, value)),
        }
    }
}

impl Visit for Capture<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, FieldValue::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, FieldValue::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, FieldValue::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, FieldValue::Str(value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(
            field,
            FieldValue::Str(Text::format(format_args!("{value}"))),
        );
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(
            field,
            FieldValue::Str(Text::format(format_args!("{value:?}"))),
        );
    }
}
