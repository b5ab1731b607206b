//! The span view: [`flatten`] turns an `ExportTraceServiceRequest` into [`ReceivedSpan`]s.
//!
//! A span keeps two views of its attributes: `attributes` / `resource` rendered as strings
//! (what most assertions compare, and what the first suites were written against) and
//! `typed_attributes` / `typed_resource` with each value's OTLP type, for the tests that an
//! integer stays an integer.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind, status::StatusCode};

use super::value::{Value, hex, string_attributes, typed_attributes};

/// A span flattened out of an export request.
///
/// ```
/// use observe_testkit::otlp::{Value, flatten};
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
/// use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
///
/// let span = Span {
///     trace_id: vec![0xab; 16],
///     span_id: vec![0x01; 8],
///     name: "get".into(),
///     kind: 2,
///     attributes: vec![KeyValue {
///         key: "n".into(),
///         value: Some(AnyValue { value: Some(any_value::Value::IntValue(3)) }),
///         ..KeyValue::default()
///     }],
///     ..Span::default()
/// };
/// let request = ExportTraceServiceRequest {
///     resource_spans: vec![ResourceSpans {
///         scope_spans: vec![ScopeSpans { spans: vec![span], ..ScopeSpans::default() }],
///         ..ResourceSpans::default()
///     }],
/// };
/// let spans = flatten(&request);
/// assert_eq!(spans[0].kind, "server");
/// assert_eq!(spans[0].span_id, "0101010101010101");
/// assert_eq!(spans[0].attributes["n"], "3");
/// assert_eq!(spans[0].typed_attributes["n"], Value::Int(3));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedSpan {
    /// The resource attributes of the batch the span came in, rendered as strings.
    pub resource: BTreeMap<String, String>,
    /// The resource attributes with their types.
    pub typed_resource: BTreeMap<String, Value>,
    /// The instrumentation scope name.
    pub scope: String,
    /// The instrumentation scope version (empty when none).
    pub scope_version: String,
    /// The span name.
    pub name: String,
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// 16 lowercase hex digits, or empty for a root span.
    pub parent_span_id: String,
    /// The W3C `tracestate` (empty when none).
    pub trace_state: String,
    /// `"internal"`, `"server"`, `"client"`, `"producer"`, `"consumer"` or `"unspecified"`.
    pub kind: &'static str,
    /// `"unset"`, `"ok"` or `"error"`.
    pub status: &'static str,
    /// The status message (empty when none).
    pub status_message: String,
    /// Span attributes rendered as strings (strings as is, others in their display form).
    pub attributes: BTreeMap<String, String>,
    /// Span attributes with their types.
    pub typed_attributes: BTreeMap<String, Value>,
    /// Start time, nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// End time, nanoseconds since the Unix epoch.
    pub end_time_unix_nano: u64,
    /// Names of the span's events, in order.
    pub events: Vec<String>,
    /// The span's events with their times and attributes, in order.
    pub event_details: Vec<SpanEvent>,
    /// Links as `(trace_id, span_id)` hex pairs.
    pub links: Vec<(String, String)>,
    /// The span's links with their trace state and attributes, in order.
    pub link_details: Vec<SpanLink>,
}

/// An event on a [`ReceivedSpan`].
///
/// ```
/// use observe_testkit::otlp::SpanEvent;
/// let event = SpanEvent { name: "retry".into(), ..SpanEvent::default() };
/// assert!(event.attributes.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanEvent {
    /// The event name.
    pub name: String,
    /// When it happened, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Its attributes with their types.
    pub attributes: BTreeMap<String, Value>,
}

/// A link on a [`ReceivedSpan`].
///
/// ```
/// use observe_testkit::otlp::SpanLink;
/// let link = SpanLink { trace_id: "ab".repeat(16), ..SpanLink::default() };
/// assert_eq!(link.trace_id.len(), 32);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanLink {
    /// The linked span's trace id, 32 lowercase hex digits.
    pub trace_id: String,
    /// The linked span's id, 16 lowercase hex digits.
    pub span_id: String,
    /// The linked span's W3C `tracestate` (empty when none).
    pub trace_state: String,
    /// The link's attributes with their types.
    pub attributes: BTreeMap<String, Value>,
}

/// Flattens one export request into [`ReceivedSpan`]s.
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// assert!(observe_testkit::otlp::flatten(&ExportTraceServiceRequest::default()).is_empty());
/// ```
pub fn flatten(request: &ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let resource_kvs = rs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let resource = string_attributes(resource_kvs);
        let typed_resource = typed_attributes(resource_kvs);
        for ss in &rs.scope_spans {
            let (scope, scope_version) = ss
                .scope
                .as_ref()
                .map(|s| (s.name.clone(), s.version.clone()))
                .unwrap_or_default();
            for span in &ss.spans {
                out.push(flatten_span(
                    span,
                    &resource,
                    &typed_resource,
                    &scope,
                    &scope_version,
                ));
            }
        }
    }
    out
}

/// How many spans a request carries, without flattening it.
pub(crate) fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum()
}

fn flatten_span(
    span: &Span,
    resource: &BTreeMap<String, String>,
    typed_resource: &BTreeMap<String, Value>,
    scope: &str,
    scope_version: &str,
) -> ReceivedSpan {
    let (status, status_message) = span
        .status
        .as_ref()
        .map(|s| (status_name(s.code), s.message.clone()))
        .unwrap_or(("unset", String::new()));
    ReceivedSpan {
        resource: resource.clone(),
        typed_resource: typed_resource.clone(),
        scope: scope.to_owned(),
        scope_version: scope_version.to_owned(),
        name: span.name.clone(),
        trace_id: hex(&span.trace_id),
        span_id: hex(&span.span_id),
        parent_span_id: hex(&span.parent_span_id),
        trace_state: span.trace_state.clone(),
        kind: kind_name(span.kind),
        status,
        status_message,
        attributes: string_attributes(&span.attributes),
        typed_attributes: typed_attributes(&span.attributes),
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        events: span.events.iter().map(|e| e.name.clone()).collect(),
        event_details: span
            .events
            .iter()
            .map(|e| SpanEvent {
                name: e.name.clone(),
                time_unix_nano: e.time_unix_nano,
                attributes: typed_attributes(&e.attributes),
            })
            .collect(),
        links: span
            .links
            .iter()
            .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
            .collect(),
        link_details: span
            .links
            .iter()
            .map(|l| SpanLink {
                trace_id: hex(&l.trace_id),
                span_id: hex(&l.span_id),
                trace_state: l.trace_state.clone(),
                attributes: typed_attributes(&l.attributes),
            })
            .collect(),
    }
}

fn kind_name(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Internal) => "internal",
        Ok(SpanKind::Server) => "server",
        Ok(SpanKind::Client) => "client",
        Ok(SpanKind::Producer) => "producer",
        Ok(SpanKind::Consumer) => "consumer",
        _ => "unspecified",
    }
}

fn status_name(code: i32) -> &'static str {
    match StatusCode::try_from(code) {
        Ok(StatusCode::Ok) => "ok",
        Ok(StatusCode::Error) => "error",
        _ => "unset",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

    #[test]
    fn unknown_kinds_and_missing_status_read_as_unspecified_and_unset() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        kind: 42,
                        ..Span::default()
                    }],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        assert_eq!(span_count(&request), 1);
        let span = &flatten(&request)[0];
        assert_eq!((span.kind, span.status), ("unspecified", "unset"));
        assert_eq!(span.parent_span_id, "", "no parent: empty, not zeros");
        assert!(span.scope.is_empty() && span.resource.is_empty());
    }
}
