//! OpenMetrics 1.0 text, with exemplars.
//!
//! The differences from the text format 0.0.4 that matter here: a counter family is named
//! without `_total` (its samples keep it); a family may say its `# UNIT` (its name then
//! ends in it); `untyped` is `unknown`; samples may carry an exemplar
//! (`# {trace_id="…",span_id="…"} <value> <timestamp>`); the exposition ends with `# EOF`.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use super::{Family, Kind, Point, bound, escape, labels, number};
use crate::metrics::exemplar::Exemplar;

/// Writes `families` as OpenMetrics, then `# EOF`.
pub(crate) fn write_openmetrics(out: &mut String, families: &[Family]) {
    for family in families {
        let name = match family.kind {
            Kind::Counter => family.name.strip_suffix("_total").unwrap_or(&family.name),
            _ => &family.name,
        };
        out.push_str("# TYPE ");
        out.push_str(name);
        out.push_str(match family.kind {
            Kind::Counter => " counter\n",
            Kind::Gauge => " gauge\n",
            Kind::Histogram => " histogram\n",
            Kind::Summary => " summary\n",
            Kind::Untyped => " unknown\n",
        });
        if name.ends_with("_seconds") {
            out.push_str("# UNIT ");
            out.push_str(name);
            out.push_str(" seconds\n");
        }
        if let Some(help) = &family.help {
            out.push_str("# HELP ");
            out.push_str(name);
            out.push(' ');
            escape(out, help, true);
            out.push('\n');
        }
        for sample in &family.samples {
            write_sample(
                out,
                name,
                family.kind,
                sample.labels.as_slice(),
                &sample.point,
            );
        }
    }
    out.push_str("# EOF\n");
}

fn write_sample(
    out: &mut String,
    name: &str,
    kind: Kind,
    sample_labels: &[(String, String)],
    point: &Point,
) {
    match point {
        Point::Number { value, exemplar } => {
            out.push_str(name);
            if kind == Kind::Counter {
                out.push_str("_total");
            }
            labels(out, sample_labels, None);
            out.push(' ');
            number(out, *value);
            if kind == Kind::Counter
                && let Some(exemplar) = exemplar
            {
                write_exemplar(out, exemplar);
            }
            out.push('\n');
        }
        Point::Raw { suffix, value } => {
            out.push_str(name);
            out.push_str(suffix);
            labels(out, sample_labels, None);
            out.push(' ');
            number(out, *value);
            out.push('\n');
        }
        Point::Histogram {
            bounds,
            counts,
            sum,
            exemplars,
        } => {
            let mut cumulative = 0;
            let mut le = String::new();
            for (i, count) in counts.iter().enumerate() {
                cumulative += count;
                le.clear();
                match bounds.get(i) {
                    Some(upper) => bound(&mut le, *upper),
                    None => le.push_str("+Inf"),
                }
                out.push_str(name);
                out.push_str("_bucket");
                labels(out, sample_labels, Some(("le", &le)));
                out.push(' ');
                number(out, cumulative as f64);
                if let Some(Some(exemplar)) = exemplars.get(i) {
                    write_exemplar(out, exemplar);
                }
                out.push('\n');
            }
            for (suffix, value) in [("_sum", *sum), ("_count", cumulative as f64)] {
                out.push_str(name);
                out.push_str(suffix);
                labels(out, sample_labels, None);
                out.push(' ');
                number(out, value);
                out.push('\n');
            }
        }
    }
}

/// ` # {trace_id="…",span_id="…"} <value> <timestamp>`: 61 of the 128 characters an
/// exemplar's labels may take.
fn write_exemplar(out: &mut String, exemplar: &Exemplar) {
    let _ = write!(
        out,
        " # {{trace_id=\"{}\",span_id=\"{}\"}} ",
        exemplar.trace_id, exemplar.span_id
    );
    number(out, exemplar.value);
    if let Ok(since) = exemplar.at.duration_since(UNIX_EPOCH) {
        let _ = write!(out, " {}.{:09}", since.as_secs(), since.subsec_nanos());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::context::{SpanId, TraceId};
    use crate::metrics::format::Sample;

    #[test]
    fn counters_lose_total_in_their_family_name_and_exemplars_follow_samples() {
        let exemplar = Exemplar {
            trace_id: TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            value: 0.0005,
            at: UNIX_EPOCH + Duration::new(1_700_000_000, 5),
        };
        let families = [
            Family {
                name: "calls_total".into(),
                help: Some("Calls \"made\".".into()),
                kind: Kind::Counter,
                samples: vec![Sample {
                    labels: vec![("result".into(), "ok".into())],
                    point: Point::Number {
                        value: 2.0,
                        exemplar: Some(exemplar),
                    },
                }],
            },
            Family {
                name: "calls_duration_seconds".into(),
                help: None,
                kind: Kind::Histogram,
                samples: vec![Sample {
                    labels: vec![],
                    point: Point::Histogram {
                        bounds: Arc::from([0.001]),
                        counts: vec![2, 0],
                        sum: 0.0009,
                        exemplars: vec![Some(exemplar), None],
                    },
                }],
            },
        ];
        let mut out = String::new();
        write_openmetrics(&mut out, &families);
        let tail = r#"# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 0.0005 1700000000.000000005"#;
        assert_eq!(
            out,
            format!(
                "# TYPE calls counter\n# HELP calls Calls \\\"made\\\".\ncalls_total{{result=\"ok\"}} 2 {tail}\n\
                 # TYPE calls_duration_seconds histogram\n# UNIT calls_duration_seconds seconds\n\
                 calls_duration_seconds_bucket{{le=\"0.001\"}} 2 {tail}\n\
                 calls_duration_seconds_bucket{{le=\"+Inf\"}} 2\n\
                 calls_duration_seconds_sum 0.0009\ncalls_duration_seconds_count 2\n# EOF\n"
            )
        );
    }
}
