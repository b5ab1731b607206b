//! The log view: [`flatten_logs`] turns an `ExportLogsServiceRequest` into
//! [`ReceivedLogRecord`]s with typed body and attributes and hex trace/span ids.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

use super::value::{Value, hex, typed_attributes};

/// A log record flattened out of an export request.
///
/// ```
/// use observe_testkit::otlp::{Value, flatten_logs};
/// use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
/// use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
/// use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
///
/// let record = LogRecord {
///     severity_number: 17,
///     severity_text: "ERROR".into(),
///     body: Some(AnyValue { value: Some(any_value::Value::StringValue("boom".into())) }),
///     span_id: vec![0x0f; 8],
///     ..LogRecord::default()
/// };
/// let request = ExportLogsServiceRequest {
///     resource_logs: vec![ResourceLogs {
///         scope_logs: vec![ScopeLogs { log_records: vec![record], ..ScopeLogs::default() }],
///         ..ResourceLogs::default()
///     }],
/// };
/// let logs = flatten_logs(&request);
/// assert_eq!(logs[0].severity_number, 17);
/// assert_eq!(logs[0].body, Value::String("boom".into()));
/// assert_eq!(logs[0].span_id, "0f0f0f0f0f0f0f0f");
/// assert_eq!(logs[0].trace_id, "", "no trace id sent");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedLogRecord {
    /// The resource attributes of the batch the record came in.
    pub resource: BTreeMap<String, Value>,
    /// The instrumentation scope name.
    pub scope: String,
    /// When the event happened, nanoseconds since the Unix epoch (0 when unknown).
    pub time_unix_nano: u64,
    /// When the exporter saw it, nanoseconds since the Unix epoch.
    pub observed_time_unix_nano: u64,
    /// OTLP severity number: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error,
    /// 21-24 fatal; 0 unspecified.
    pub severity_number: i32,
    /// The severity as the source wrote it, e.g. `INFO`.
    pub severity_text: String,
    /// The body with its type ([`Value::Empty`] when none).
    pub body: Value,
    /// The record's attributes with their types.
    pub attributes: BTreeMap<String, Value>,
    /// 32 lowercase hex digits, or empty when the record was not in a span.
    pub trace_id: String,
    /// 16 lowercase hex digits, or empty when the record was not in a span.
    pub span_id: String,
    /// W3C trace flags (bit 0: sampled).
    pub flags: u32,
    /// The event name (empty for a plain log record).
    pub event_name: String,
}

/// Flattens one export request into [`ReceivedLogRecord`]s, in request order.
///
/// ```
/// use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
/// let request = ExportLogsServiceRequest::default();
/// assert!(observe_testkit::otlp::flatten_logs(&request).is_empty());
/// ```
pub fn flatten_logs(request: &ExportLogsServiceRequest) -> Vec<ReceivedLogRecord> {
    let mut out = Vec::new();
    for rl in &request.resource_logs {
        let resource = rl
            .resource
            .as_ref()
            .map(|r| typed_attributes(&r.attributes))
            .unwrap_or_default();
        for sl in &rl.scope_logs {
            let scope = sl
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            out.extend(sl.log_records.iter().map(|record| ReceivedLogRecord {
                resource: resource.clone(),
                scope: scope.clone(),
                time_unix_nano: record.time_unix_nano,
                observed_time_unix_nano: record.observed_time_unix_nano,
                severity_number: record.severity_number,
                severity_text: record.severity_text.clone(),
                body: Value::from(record.body.as_ref()),
                attributes: typed_attributes(&record.attributes),
                trace_id: hex(&record.trace_id),
                span_id: hex(&record.span_id),
                flags: record.flags,
                event_name: record.event_name.clone(),
            }));
        }
    }
    out
}

/// How many log records a request carries, without flattening it.
pub(crate) fn log_record_count(request: &ExportLogsServiceRequest) -> usize {
    request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .map(|sl| sl.log_records.len())
        .sum()
}
