//! Names of the span fields that the `#[observe]` expansion writes and the layers read.
//!
//! These strings are the contract between `observe-macros` and this crate; the macro crate
//! cannot depend on this one, so it spells them out and the integration tests pin both.

/// The metric base name: `<metric_name>_total` and `<metric_name>_duration_seconds`.
pub const METRIC_NAME: &str = "metric_name";
/// Prefix of a metric label field: `metric_label_event_table` is the label `event_table`.
pub const METRIC_LABEL_PREFIX: &str = "metric_label_";
/// The OpenTelemetry span kind: `server`, `client`, `producer`, `consumer` or `internal`.
pub const OTEL_KIND: &str = "otel.kind";
/// Overrides the OpenTelemetry span name.
pub const OTEL_NAME: &str = "otel.name";
/// `ERROR` marks the OpenTelemetry span status as failed (and the call as failed).
pub const OTEL_STATUS_CODE: &str = "otel.status_code";
/// The description of an `ERROR` status.
pub const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";
/// The outcome of the call, recorded by the expansion when it is not `ok`: `error`
/// (returned `Err`), `panic`, or `cancelled` (a future dropped before completion).
pub const RESULT: &str = "observe.result";
/// A field of this name with any value marks the span failed.
pub const ERROR: &str = "error";

/// The metric name used when `#[observe]` names none (autometrics' convention).
pub const FUNCTION_CALLS: &str = "function_calls";

/// Prefixes of the OpenTelemetry HTTP attributes the HTTP layer sets: they describe the
/// request span, and repeating them on every line inside a handler would only be noise
/// (`request_id` ties those lines to the request; `http.route`, inherited, says which
/// endpoint logged them).
const SEMCONV_PREFIXES: [&str; 6] = [
    "http.",
    "url.",
    "server.",
    "client.",
    "network.",
    "user_agent.",
];

/// True for fields that describe a span itself and so are never inherited by its children:
/// `metric_*`, `otel.*`, `observe.*`, `error`, `error.type` and the HTTP attributes but
/// `http.route`.
pub fn is_span_local(name: &str) -> bool {
    name.starts_with("metric_")
        || name.starts_with("otel.")
        || name.starts_with("observe.")
        || name == ERROR
        || name == "error.type"
        || (name != "http.route"
            && SEMCONV_PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_local_fields_are_not_inherited() {
        for local in [
            "metric_name",
            "metric_label_table",
            "otel.kind",
            "observe.result",
            "error",
        ] {
            assert!(is_span_local(local), "{local}");
        }
        for inherited in [
            "request_id",
            "user",
            "errors",
            "metrics",
            "otel",
            "httpx",
            "urls",
        ] {
            assert!(!is_span_local(inherited), "{inherited}");
        }
    }
}
