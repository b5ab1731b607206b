//! The names of the span fields that the `#[observe]` expansion writes and observe's
//! runtime reads: the contract between `observe-macros` and `observe-runtime`, spelled
//! once. A span made by hand with these fields is measured, logged and exported as an
//! observed function's span is.
//!
//! ```
//! use observe_fields::{METRIC_LABEL_PREFIX, METRIC_NAME};
//!
//! // `#[observe(metric = "db_event", labels(table = "events"))]` declares:
//! let fields = [METRIC_NAME.to_string(), format!("{METRIC_LABEL_PREFIX}table")];
//! assert_eq!(fields, ["metric_name", "metric_label_table"]);
//! ```

#![no_std]

/// The metric base name: `<metric_name>_total` and `<metric_name>_duration_seconds`.
///
/// ```
/// assert_eq!(observe_fields::METRIC_NAME, "metric_name");
/// ```
pub const METRIC_NAME: &str = "metric_name";

/// Prefix of a metric label field: `metric_label_event_table` is the label `event_table`.
///
/// ```
/// let label = "metric_label_event_table".strip_prefix(observe_fields::METRIC_LABEL_PREFIX);
/// assert_eq!(label, Some("event_table"));
/// ```
pub const METRIC_LABEL_PREFIX: &str = "metric_label_";

/// The metric name `#[observe]` uses when it is given none (autometrics' convention),
/// labelled by [`FUNCTION_LABEL`] and [`MODULE_LABEL`].
///
/// ```
/// assert_eq!(observe_fields::FUNCTION_CALLS, "function_calls");
/// ```
pub const FUNCTION_CALLS: &str = "function_calls";

/// The label naming the function of a [`FUNCTION_CALLS`] series.
///
/// ```
/// assert_eq!(observe_fields::FUNCTION_LABEL, "function");
/// ```
pub const FUNCTION_LABEL: &str = "function";

/// The label naming the module of a [`FUNCTION_CALLS`] series.
///
/// ```
/// assert_eq!(observe_fields::MODULE_LABEL, "module");
/// ```
pub const MODULE_LABEL: &str = "module";

/// The OpenTelemetry span kind: `server`, `client`, `producer`, `consumer` or `internal`.
///
/// ```
/// assert_eq!(observe_fields::OTEL_KIND, "otel.kind");
/// ```
pub const OTEL_KIND: &str = "otel.kind";

/// Overrides the OpenTelemetry span name.
///
/// ```
/// assert_eq!(observe_fields::OTEL_NAME, "otel.name");
/// ```
pub const OTEL_NAME: &str = "otel.name";

/// `ERROR` marks the OpenTelemetry span status as failed (and the call as failed).
///
/// ```
/// assert_eq!(observe_fields::OTEL_STATUS_CODE, "otel.status_code");
/// ```
pub const OTEL_STATUS_CODE: &str = "otel.status_code";

/// The description of an `ERROR` status.
///
/// ```
/// assert_eq!(observe_fields::OTEL_STATUS_DESCRIPTION, "otel.status_description");
/// ```
pub const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";

/// The outcome of the call, recorded by the expansion when it is not `ok`: `error`
/// (returned `Err`), `panic`, or `cancelled` (a future dropped before completion).
///
/// ```
/// assert_eq!(observe_fields::RESULT, "observe.result");
/// ```
pub const RESULT: &str = "observe.result";

/// Declared, never recorded, by a function with `track_concurrency`: the runtime keeps its
/// `<metric>_in_flight` gauge, knowing it from the span's metadata alone.
///
/// ```
/// assert_eq!(observe_fields::IN_FLIGHT, "observe.in_flight");
/// ```
pub const IN_FLIGHT: &str = "observe.in_flight";

/// A field of this name with any value marks the span failed.
///
/// ```
/// assert_eq!(observe_fields::ERROR, "error");
/// ```
pub const ERROR: &str = "error";

/// The metric label of a call's outcome: `ok`, `error` or `cancelled`.
///
/// ```
/// assert_eq!(observe_fields::RESULT_LABEL, "result");
/// ```
pub const RESULT_LABEL: &str = "result";

/// The metric label naming a function's objective (`objective(name = ..)`).
///
/// ```
/// assert_eq!(observe_fields::OBJECTIVE_NAME_LABEL, "objective_name");
/// ```
pub const OBJECTIVE_NAME_LABEL: &str = "objective_name";

/// The metric label of an objective's target percentage.
///
/// ```
/// assert_eq!(observe_fields::OBJECTIVE_PERCENTILE_LABEL, "objective_percentile");
/// ```
pub const OBJECTIVE_PERCENTILE_LABEL: &str = "objective_percentile";

/// The histogram label of an objective's latency threshold, in seconds.
///
/// ```
/// assert_eq!(observe_fields::OBJECTIVE_LATENCY_THRESHOLD_LABEL, "objective_latency_threshold");
/// ```
pub const OBJECTIVE_LATENCY_THRESHOLD_LABEL: &str = "objective_latency_threshold";

/// The only label of the series a metric's label sets go to past its cardinality limit.
///
/// ```
/// assert_eq!(observe_fields::OVERFLOW_LABEL, "otel_metric_overflow");
/// ```
pub const OVERFLOW_LABEL: &str = "otel_metric_overflow";

/// Label names `labels(..)` may not use: the histogram's and summary's own (`le`,
/// `quantile`), and the ones observe adds to the series itself.
///
/// ```
/// assert!(observe_fields::RESERVED_LABELS.contains(&"objective_name"));
/// ```
pub const RESERVED_LABELS: &[&str] = &[
    "le",
    "quantile",
    RESULT_LABEL,
    OBJECTIVE_NAME_LABEL,
    OBJECTIVE_PERCENTILE_LABEL,
    OBJECTIVE_LATENCY_THRESHOLD_LABEL,
    OVERFLOW_LABEL,
];
