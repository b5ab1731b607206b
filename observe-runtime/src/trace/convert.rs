//! A closed span's record → the OpenTelemetry SDK's `SpanData`, on the export thread.
//!
//! The application thread only moves the record into the queue; everything here (names,
//! attributes, wall-clock times, events) is built off the request path.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status, TraceFlags, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::data::SpanEvent;
use crate::config::SpanLimits;
use crate::context::{Outcome, SpanId, SpanRecord, TraceId};
use crate::fields;
use crate::log::timestamp::wall_time_at;
use crate::value::FieldValue;

/// Builds the exported span. `scope` names observe as the instrumentation.
pub(crate) fn span_data(
    record: SpanRecord,
    scope: &InstrumentationScope,
    limits: &SpanLimits,
) -> SpanData {
    let metadata = record.metadata;
    let start_time = wall_time_at(record.started);
    // The end from the start: one clock conversion per span, and the exported duration is
    // exactly the latency the metrics observed.
    let end_time = start_time + record.latency().unwrap_or_default();
    let name: Cow<'static, str> = match record.field(fields::OTEL_NAME).and_then(FieldValue::as_str)
    {
        Some(name) => Cow::Owned(name.to_owned()),
        None => Cow::Borrowed(metadata.name()),
    };
    let span_kind = match record.field(fields::OTEL_KIND).and_then(FieldValue::as_str) {
        Some(kind) if kind.eq_ignore_ascii_case("server") => SpanKind::Server,
        Some(kind) if kind.eq_ignore_ascii_case("client") => SpanKind::Client,
        Some(kind) if kind.eq_ignore_ascii_case("producer") => SpanKind::Producer,
        Some(kind) if kind.eq_ignore_ascii_case("consumer") => SpanKind::Consumer,
        _ => SpanKind::Internal,
    };

    let mut attributes = Vec::with_capacity(record.fields().len() + 2);
    let mut dropped_attributes_count = 0u32;
    let mut push = |attributes: &mut Vec<KeyValue>, kv: KeyValue| {
        if attributes.len() < limits.attributes {
            attributes.push(kv);
        } else {
            dropped_attributes_count += 1;
        }
    };
    for field in record.fields() {
        if is_internal(field.name) {
            continue;
        }
        push(
            &mut attributes,
            KeyValue::new(field.name, value(&field.value)),
        );
    }
    if let Some(file) = metadata.file() {
        push(&mut attributes, KeyValue::new("code.file.path", file));
    }
    if let Some(line) = metadata.line() {
        push(
            &mut attributes,
            KeyValue::new("code.line.number", i64::from(line)),
        );
    }

    let mut status_message = record
        .field(fields::ERROR)
        .map(ToString::to_string)
        .or_else(|| {
            record
                .field(fields::OTEL_STATUS_DESCRIPTION)
                .map(ToString::to_string)
        });
    // Sized for the kept events and a panic's: no allocation for a span without either.
    let mut events: Vec<Event> =
        Vec::with_capacity(record.trace.events.len() + usize::from(record.panicked));
    for event in &record.trace.events {
        if status_message.is_none() {
            status_message = event.error.as_deref().map(str::to_owned);
        }
        events.push(span_event(event, limits));
    }
    let mut dropped_events = record.trace.dropped_events;
    if record.panicked {
        let panic = Event::new(
            "exception",
            end_time,
            vec![
                KeyValue::new("exception.type", "panic"),
                KeyValue::new("exception.message", "the call panicked"),
            ],
            0,
        );
        if events.len() < limits.events {
            events.push(panic);
        } else {
            dropped_events += 1;
        }
        status_message.get_or_insert_with(|| "the call panicked".to_owned());
    }

    let status = match record.outcome() {
        Outcome::Error => Status::error(status_message.unwrap_or_default()),
        _ if record
            .field(fields::OTEL_STATUS_CODE)
            .and_then(FieldValue::as_str)
            .is_some_and(|code| code.eq_ignore_ascii_case("ok")) =>
        {
            Status::Ok
        }
        _ => Status::Unset,
    };

    let links = record
        .links()
        .iter()
        .map(|link| Link::with_context(remote_context(link.trace_id, link.span_id)))
        .collect();
    let trace_state = crate::propagation::otel_trace_state(record.tracestate.as_deref());

    SpanData {
        span_context: SpanContext::new(
            otel_trace_id(record.trace_id),
            otel_span_id(record.span_id),
            TraceFlags::new(crate::propagation::trace_flags(
                true,
                record.random_trace_id,
            )),
            false,
            trace_state,
        ),
        parent_span_id: record
            .exported_parent
            .map_or(opentelemetry::trace::SpanId::INVALID, |(id, _)| {
                otel_span_id(id)
            }),
        parent_span_is_remote: record.exported_parent.is_some_and(|(_, remote)| remote),
        span_kind,
        name,
        start_time,
        end_time,
        attributes,
        dropped_attributes_count,
        events: span_events(events, dropped_events),
        links: span_links(links, record.dropped_links),
        status,
        instrumentation_scope: scope.clone(),
    }
}

// `SpanEvents` and `SpanLinks` are `#[non_exhaustive]`: built from their defaults.
fn span_events(events: Vec<Event>, dropped: u32) -> SpanEvents {
    let mut span_events = SpanEvents::default();
    span_events.events = events;
    span_events.dropped_count = dropped;
    span_events
}

fn span_links(links: Vec<Link>, dropped: u32) -> SpanLinks {
    let mut span_links = SpanLinks::default();
    span_links.links = links;
    span_links.dropped_count = dropped;
    span_links
}

/// Fields that carry OpenTelemetry's and observe's own protocol (span kind, name, status),
/// which the span expresses in its own terms. `observe.result` stays: it tells a panic and
/// a cancelled future apart, which the status cannot.
fn is_internal(name: &str) -> bool {
    name.starts_with("otel.") || (name.starts_with("observe.") && name != fields::RESULT)
}

fn span_event(event: &SpanEvent, limits: &SpanLimits) -> Event {
    let name: Cow<'static, str> = if event.error.is_some() {
        Cow::Borrowed("exception")
    } else {
        match &event.message {
            Some(message) => Cow::Owned(String::from(message.as_str())),
            None => Cow::Borrowed("event"),
        }
    };
    let mut attributes = Vec::with_capacity(event.fields.len() + 3);
    attributes.push(KeyValue::new("level", event.level.as_str()));
    attributes.push(KeyValue::new("target", event.target));
    if let Some(error) = &event.error {
        attributes.push(KeyValue::new(
            "exception.message",
            String::from(error.as_str()),
        ));
        if let Some(message) = &event.message {
            attributes.push(KeyValue::new("message", String::from(message.as_str())));
        }
    }
    let mut dropped = 0u32;
    for (name, field) in &event.fields {
        if attributes.len() < limits.event_attributes {
            attributes.push(KeyValue::new(*name, value(field)));
        } else {
            dropped += 1;
        }
    }
    Event::new(name, wall_time(event.at), attributes, dropped)
}

fn wall_time(at: std::time::Instant) -> SystemTime {
    wall_time_at(at)
}

/// A field value as a typed attribute value: integers stay integers (as far as OTLP's
/// 64-bit signed integers reach; beyond, their decimal text), floats doubles, booleans
/// booleans, everything else text.
pub(crate) fn value(field: &FieldValue) -> Value {
    match field {
        FieldValue::Bool(v) => Value::Bool(*v),
        FieldValue::I64(v) => Value::I64(*v),
        FieldValue::U64(v) => {
            i64::try_from(*v).map_or_else(|_| Value::from(v.to_string()), Value::I64)
        }
        FieldValue::I128(v) => {
            i64::try_from(*v).map_or_else(|_| Value::from(v.to_string()), Value::I64)
        }
        FieldValue::U128(v) => {
            i64::try_from(*v).map_or_else(|_| Value::from(v.to_string()), Value::I64)
        }
        FieldValue::F64(v) => Value::F64(*v),
        // `String::from`, not `to_string`: a copy, without the formatting machinery.
        FieldValue::Str(v) => Value::from(String::from(v.as_str())),
    }
}

pub(crate) fn otel_trace_id(id: TraceId) -> opentelemetry::trace::TraceId {
    opentelemetry::trace::TraceId::from_bytes(id.to_bytes())
}

pub(crate) fn otel_span_id(id: SpanId) -> opentelemetry::trace::SpanId {
    opentelemetry::trace::SpanId::from_bytes(id.to_bytes())
}

fn remote_context(trace_id: TraceId, span_id: SpanId) -> SpanContext {
    SpanContext::new(
        otel_trace_id(trace_id),
        otel_span_id(span_id),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_type() {
        assert_eq!(value(&FieldValue::U64(201)), Value::I64(201));
        assert_eq!(value(&FieldValue::I64(-3)), Value::I64(-3));
        assert_eq!(value(&FieldValue::F64(0.5)), Value::F64(0.5));
        assert_eq!(value(&FieldValue::Bool(true)), Value::Bool(true));
        assert_eq!(value(&FieldValue::Str("x".into())), Value::from("x"));
        assert_eq!(
            value(&FieldValue::U64(u64::MAX)),
            Value::from(u64::MAX.to_string())
        );
        assert_eq!(value(&FieldValue::I128(-7)), Value::I64(-7));
    }
}
