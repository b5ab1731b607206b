//! The text format 0.0.4 that metrics-exporter-prometheus renders, read back into
//! [`Family`]s, so that the application's own metrics and the process metrics can be written
//! as OpenMetrics and pushed over OTLP like observe's.
//!
//! Only what the exporter writes needs reading (`# HELP`, `# TYPE`, samples with or without
//! labels, blank lines); anything else is skipped rather than guessed at.

use std::sync::Arc;

use super::{Family, Kind, Point, Sample};

/// Reads `text` into families, in order.
pub(crate) fn parse(text: &str) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    // Histogram samples gathered per label set before they become points.
    let mut open: Vec<(Vec<(String, String)>, Histogram)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            family(&mut families, &mut open, name).help = Some(unescape(help));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            family(&mut families, &mut open, name).kind = match kind.trim() {
                "counter" => Kind::Counter,
                "gauge" => Kind::Gauge,
                "histogram" => Kind::Histogram,
                "summary" => Kind::Summary,
                _ => Kind::Untyped,
            };
        } else if !line.is_empty() && !line.starts_with('#') {
            let Some((name, labels, value)) = sample(line) else {
                continue;
            };
            add_sample(&mut families, &mut open, name, labels, value);
        }
    }
    close(&mut families, &mut open);
    families
}

#[derive(Default)]
struct Histogram {
    /// `(le, cumulative count)` as read.
    buckets: Vec<(f64, u64)>,
    sum: f64,
}

/// The family named `name`, made (after the open histograms are closed) when it is new.
fn family<'a>(
    families: &'a mut Vec<Family>,
    open: &mut Vec<(Vec<(String, String)>, Histogram)>,
    name: &str,
) -> &'a mut Family {
    if families.last().is_none_or(|f| f.name != name) {
        close(families, open);
        families.push(Family {
            name: name.to_owned(),
            help: None,
            kind: Kind::Untyped,
            samples: Vec::new(),
        });
    }
    families.last_mut().expect("just pushed")
}

fn add_sample(
    families: &mut Vec<Family>,
    open: &mut Vec<(Vec<(String, String)>, Histogram)>,
    name: &str,
    mut labels: Vec<(String, String)>,
    value: f64,
) {
    let current = families.last().map(|f| (f.name.clone(), f.kind));
    match current {
        Some((family_name, Kind::Histogram)) if name.starts_with(&family_name) => {
            let suffix = &name[family_name.len()..];
            let le = labels
                .iter()
                .position(|(k, _)| k == "le")
                .map(|at| labels.remove(at).1);
            let at = match open.iter().position(|(l, _)| *l == labels) {
                Some(at) => at,
                None => {
                    open.push((labels, Histogram::default()));
                    open.len() - 1
                }
            };
            let histogram = &mut open[at].1;
            match (suffix, le) {
                ("_bucket", Some(le)) => {
                    let bound = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().unwrap_or(f64::NAN)
                    };
                    histogram.buckets.push((bound, value as u64));
                }
                ("_sum", _) => histogram.sum = value,
                _ => {}
            }
        }
        Some((family_name, Kind::Summary)) if name.starts_with(&family_name) => {
            let suffix = name[family_name.len()..].to_owned();
            families.last_mut().expect("a family").samples.push(Sample {
                labels,
                point: Point::Raw { suffix, value },
            });
        }
        Some((family_name, _)) if family_name == name => {
            families.last_mut().expect("a family").samples.push(Sample {
                labels,
                point: Point::Number {
                    value,
                    exemplar: None,
                },
            });
        }
        _ => {
            // A sample outside any declared family: a family of its own.
            let family = family(families, open, name);
            family.samples.push(Sample {
                labels,
                point: Point::Number {
                    value,
                    exemplar: None,
                },
            });
        }
    }
}

/// Turns the histograms read so far into the last family's points.
fn close(families: &mut [Family], open: &mut Vec<(Vec<(String, String)>, Histogram)>) {
    let Some(family) = families.last_mut() else {
        open.clear();
        return;
    };
    for (labels, mut histogram) in open.drain(..) {
        histogram.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let bounds: Arc<[f64]> = histogram
            .buckets
            .iter()
            .map(|(le, _)| *le)
            .filter(|le| le.is_finite())
            .collect();
        let mut counts = Vec::with_capacity(histogram.buckets.len());
        let mut previous = 0;
        for (_, cumulative) in &histogram.buckets {
            counts.push(cumulative.saturating_sub(previous));
            previous = *cumulative;
        }
        if counts.len() == bounds.len() {
            counts.push(0);
        }
        family.samples.push(Sample {
            labels,
            point: Point::Histogram {
                bounds,
                counts,
                sum: histogram.sum,
                exemplars: Vec::new(),
            },
        });
    }
}

/// Labels as read, in order.
type Labels = Vec<(String, String)>;

/// `name{labels} value [timestamp]`.
fn sample(line: &str) -> Option<(&str, Labels, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let (labels, rest) = if line[name_end..].starts_with('{') {
        let (labels, used) = labels(&line[name_end + 1..])?;
        (labels, &line[name_end + 1 + used..])
    } else {
        (Vec::new(), &line[name_end..])
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    Some((name, labels, value))
}

/// `k="v",...}`: the labels, and how many bytes they took (up to and with the `}`).
fn labels(text: &str) -> Option<(Vec<(String, String)>, usize)> {
    let mut labels = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        match bytes.get(at)? {
            b'}' => return Some((labels, at + 1)),
            b',' => at += 1,
            _ => {}
        }
        if bytes.get(at) == Some(&b'}') {
            return Some((labels, at + 1));
        }
        let eq = text[at..].find('=')? + at;
        let key = text[at..eq].to_owned();
        if bytes.get(eq + 1) != Some(&b'"') {
            return None;
        }
        let mut value = String::new();
        let mut i = eq + 2;
        loop {
            match bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    match bytes.get(i + 1)? {
                        b'n' => value.push('\n'),
                        other => value.push(char::from(*other)),
                    }
                    i += 2;
                }
                _ => {
                    let c = text[i..].chars().next()?;
                    value.push(c);
                    i += c.len_utf8();
                }
            }
        }
        labels.push((key, value));
        at = i + 1;
    }
}

/// `HELP` text: `\\` and `\n` escapes.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::write_prometheus;
    use super::*;

    const TEXT: &str = "# HELP orders_total Orders placed.\n# TYPE orders_total counter\norders_total{shop=\"a \\\"b\\\"\"} 3\norders_total 1\n\n# TYPE depth gauge\ndepth 2.5\n\n# HELP latency_seconds Latency \\\\ of\\nrequests.\n# TYPE latency_seconds histogram\nlatency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\nlatency_seconds_bucket{route=\"/x\",le=\"1\"} 3\nlatency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\nlatency_seconds_sum{route=\"/x\"} 7.5\nlatency_seconds_count{route=\"/x\"} 4\n\n";

    #[test]
    fn the_exporters_text_reads_back_and_writes_out_the_same_but_for_le() {
        let families = parse(TEXT);
        assert_eq!(families.len(), 3);
        assert_eq!(families[0].kind, Kind::Counter);
        assert_eq!(
            families[0].samples[0].labels,
            [("shop".into(), "a \"b\"".into())]
        );
        let Point::Histogram {
            bounds,
            counts,
            sum,
            ..
        } = &families[2].samples[0].point
        else {
            panic!("{:?}", families[2]);
        };
        assert_eq!(
            (&bounds[..], &counts[..], *sum),
            (&[0.1, 1.0][..], &[1, 2, 1][..], 7.5)
        );
        assert_eq!(
            families[2].help.as_deref(),
            Some("Latency \\ of\nrequests.")
        );
        let mut out = String::new();
        write_prometheus(&mut out, &families);
        // `le` is written in the form Prometheus normalises it to.
        assert_eq!(out, TEXT.replace(r#"le="1""#, r#"le="1.0""#));
    }
}
