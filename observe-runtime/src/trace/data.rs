//! What the trace signal collects in a span's record while the span is open: the events
//! that become span events.

use std::time::Instant;

use tracing_core::field::Field;
use tracing_core::{Event, Level};

use crate::value::{FieldValue, FieldValues, Text};

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
        event.record(&mut FieldValues(
            |field: &Field, value: FieldValue| match field.name() {
                "message" => captured.message = Some(value.into_text()),
                crate::fields::ERROR => captured.error = Some(value.into_text()),
                name => captured.fields.push((name, value)),
            },
        ));
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
