//! The Prometheus text exposition format 0.0.4.

use super::{Family, Kind, Point, bound, escape, labels, number};

/// Writes `families` in the text format 0.0.4: `# HELP`, `# TYPE`, samples, a blank line
/// after each family (as metrics-exporter-prometheus lays out its own).
pub(crate) fn write_prometheus(out: &mut String, families: &[Family]) {
    for family in families {
        if let Some(help) = &family.help {
            out.push_str("# HELP ");
            out.push_str(&family.name);
            out.push(' ');
            escape(out, help, false);
            out.push('\n');
        }
        out.push_str("# TYPE ");
        out.push_str(&family.name);
        out.push_str(match family.kind {
            Kind::Counter => " counter\n",
            Kind::Gauge => " gauge\n",
            Kind::Histogram => " histogram\n",
            Kind::Summary => " summary\n",
            Kind::Untyped => " untyped\n",
        });
        for sample in &family.samples {
            write_sample(out, &family.name, sample.labels.as_slice(), &sample.point);
        }
        out.push('\n');
    }
}

fn write_sample(out: &mut String, name: &str, sample_labels: &[(String, String)], point: &Point) {
    match point {
        Point::Number { value, .. } => {
            out.push_str(name);
            labels(out, sample_labels, None);
            out.push(' ');
            number(out, *value);
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
            ..
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
