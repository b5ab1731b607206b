//! One export request per signal, with every field the receiver's views flatten and every
//! attribute type OTLP has, so each round trip can check them all.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

pub(crate) const TRACE_ID: [u8; 16] = [
    0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c,
];
pub(crate) const TRACE_ID_HEX: &str = "0af7651916cd43dd8448eb211c80319c";
pub(crate) const SERVER_SPAN_ID: [u8; 8] = [0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31];
pub(crate) const SERVER_SPAN_ID_HEX: &str = "b7ad6b7169203331";
pub(crate) const CLIENT_SPAN_ID_HEX: &str = "00f067aa0ba902b7";
const CLIENT_SPAN_ID: [u8; 8] = [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7];
pub(crate) const LINKED_TRACE_ID_HEX: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const LINKED_TRACE_ID: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];
pub(crate) const START: u64 = 1_700_000_000_000_000_000;
pub(crate) const END: u64 = START + 1_500_000;

fn any(value: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: any(value),
        ..KeyValue::default()
    }
}

fn string(s: &str) -> any_value::Value {
    any_value::Value::StringValue(s.into())
}

/// One of each attribute type: the typed views must give each back as sent.
pub(crate) fn typed_attributes() -> Vec<KeyValue> {
    vec![
        kv("http.response.status_code", any_value::Value::IntValue(200)),
        kv("ratio", any_value::Value::DoubleValue(0.25)),
        kv("cached", any_value::Value::BoolValue(true)),
        kv("http.route", string("/items/{id}")),
        // Text that reads as an int must stay a string.
        kv("order.id", string("42")),
        kv(
            "tags",
            any_value::Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(string("a")),
                    },
                    AnyValue {
                        value: Some(any_value::Value::IntValue(1)),
                    },
                ],
            }),
        ),
    ]
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            kv("service.name", string("checkout")),
            kv("service.instance.count", any_value::Value::IntValue(3)),
        ],
        ..Resource::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "observe-testkit".into(),
        version: "1.2.3".into(),
        ..InstrumentationScope::default()
    })
}

pub(crate) fn traces() -> ExportTraceServiceRequest {
    let server = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SERVER_SPAN_ID.to_vec(),
        trace_state: "vendor=1".into(),
        name: "GET /items/{id}".into(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: START,
        end_time_unix_nano: END,
        attributes: typed_attributes(),
        events: vec![Event {
            time_unix_nano: START + 1_000,
            name: "retry".into(),
            attributes: vec![kv("attempt", any_value::Value::IntValue(2))],
            ..Event::default()
        }],
        links: vec![Link {
            trace_id: LINKED_TRACE_ID.to_vec(),
            span_id: SERVER_SPAN_ID.to_vec(),
            attributes: vec![kv("link.reason", string("batch"))],
            ..Link::default()
        }],
        status: Some(Status {
            message: "upstream failed".into(),
            code: StatusCode::Error as i32,
        }),
        ..Span::default()
    };
    let client = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: CLIENT_SPAN_ID.to_vec(),
        parent_span_id: SERVER_SPAN_ID.to_vec(),
        name: "save".into(),
        kind: SpanKind::Client as i32,
        start_time_unix_nano: START + 10,
        end_time_unix_nano: END - 10,
        status: Some(Status {
            message: String::new(),
            code: StatusCode::Ok as i32,
        }),
        ..Span::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans: vec![server, client],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn exemplar(value: exemplar::Value) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user", string("u1"))],
        time_unix_nano: START + 5,
        span_id: SERVER_SPAN_ID.to_vec(),
        trace_id: TRACE_ID.to_vec(),
        value: Some(value),
    }
}

pub(crate) fn metrics() -> ExportMetricsServiceRequest {
    let calls = Metric {
        name: "checkout_total".into(),
        description: "Calls to checkout.".into(),
        unit: "1".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                attributes: vec![
                    kv("result", string("ok")),
                    kv("shard", any_value::Value::IntValue(7)),
                ],
                start_time_unix_nano: START,
                time_unix_nano: END,
                exemplars: vec![exemplar(exemplar::Value::AsInt(1))],
                value: Some(number_data_point::Value::AsInt(5)),
                ..NumberDataPoint::default()
            }],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        ..Metric::default()
    };
    let queue = Metric {
        name: "queue_depth".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                time_unix_nano: END,
                value: Some(number_data_point::Value::AsDouble(1.5)),
                ..NumberDataPoint::default()
            }],
        })),
        ..Metric::default()
    };
    let duration = Metric {
        name: "checkout_duration_seconds".into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: vec![kv("result", string("error"))],
                start_time_unix_nano: START,
                time_unix_nano: END,
                count: 3,
                sum: Some(0.75),
                bucket_counts: vec![1, 2, 0],
                explicit_bounds: vec![0.1, 0.5],
                exemplars: vec![exemplar(exemplar::Value::AsDouble(0.3))],
                min: Some(0.05),
                max: Some(0.4),
                ..HistogramDataPoint::default()
            }],
            aggregation_temporality: 1,
        })),
        ..Metric::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![calls, queue, duration],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

pub(crate) fn logs() -> ExportLogsServiceRequest {
    let record = LogRecord {
        time_unix_nano: START,
        observed_time_unix_nano: START + 7,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: any(string("checkout failed")),
        attributes: typed_attributes(),
        flags: 1,
        trace_id: TRACE_ID.to_vec(),
        span_id: SERVER_SPAN_ID.to_vec(),
        ..LogRecord::default()
    };
    let unrelated = LogRecord {
        severity_number: 9,
        severity_text: "INFO".into(),
        body: any(any_value::Value::IntValue(12)),
        ..LogRecord::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: vec![record, unrelated],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}
