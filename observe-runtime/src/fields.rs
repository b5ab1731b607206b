//! Names of the span fields that the `#[observe]` expansion writes and the layers read:
//! the [`observe_fields`] crate, which `observe-macros` uses too, so that each name is
//! spelled once (`tests/field_names.rs` checks an expansion against these constants).

pub use observe_fields::{
    ERROR, FUNCTION_CALLS, FUNCTION_LABEL, IN_FLIGHT, METRIC_LABEL_PREFIX, METRIC_NAME,
    MODULE_LABEL, OTEL_KIND, OTEL_NAME, OTEL_STATUS_CODE, OTEL_STATUS_DESCRIPTION, RESULT,
};

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
pub(crate) fn is_span_local(name: &str) -> bool {
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
