//! The exposition formats: observe's own families written out, and the exporter's text read
//! back, so that one set of families can be written as Prometheus text 0.0.4, as
//! OpenMetrics 1.0 (with exemplars), and pushed over OTLP.
//!
//! - `families.rs`: the model both sources become;
//! - `parse.rs`: the text 0.0.4 metrics-exporter-prometheus renders, read back;
//! - `prometheus.rs`, `openmetrics.rs`: the two text formats.

mod families;
mod openmetrics;
mod parse;
mod prometheus;

pub(crate) use families::{Family, Kind, Point, Sample};
pub(crate) use openmetrics::write_openmetrics;
pub(crate) use parse::parse;
pub(crate) use prometheus::write_prometheus;

/// Appends `value` as a label value or `HELP` text escapes it: `\` `"` and newline.
fn escape(out: &mut String, value: &str, quotes: bool) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// A number as both formats write it: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
fn number(out: &mut String, value: f64) {
    use std::fmt::Write as _;
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}

/// `{k="v",...}` (nothing when there are no labels), with an extra label last.
fn labels(out: &mut String, labels: &[(String, String)], extra: Option<(&str, &str)>) {
    if labels.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let all = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra);
    for (i, (key, value)) in all.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape(out, value, true);
        out.push('"');
    }
    out.push('}');
}
