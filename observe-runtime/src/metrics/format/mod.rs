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

#[cfg(test)]
mod tests;

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

/// A histogram bound as the `le` label carries it, in the canonical form Prometheus 3
/// normalises every `le` to when it ingests one (and 2.x writes for protobuf scrapes): Go's
/// shortest `%g` (`0.25`, `1e-05`, `1e+06`), with `.0` added to a whole number (`1.0`,
/// `10.0`). Writing it so means the label reads the same in every Prometheus version, and
/// an objective's `objective_latency_threshold`, written by the same function, matches its
/// bucket's `le` exactly, which is how the SLO rules find that bucket.
pub(crate) fn bound(out: &mut String, value: f64) {
    use std::fmt::Write as _;
    if !value.is_finite() {
        return number(out, value);
    }
    // `{:e}` is the shortest round-tripping mantissa with its decimal exponent.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if value != 0.0 && !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exponent.unsigned_abs());
    } else {
        let start = out.len();
        let _ = write!(out, "{value}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

/// [`bound`] as a new string.
pub(crate) fn bound_text(value: f64) -> String {
    let mut text = String::new();
    bound(&mut text, value);
    text
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
