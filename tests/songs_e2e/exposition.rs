//! Reading a `/metrics` exposition back, text 0.0.4 or OpenMetrics 1.0: its samples with
//! their exemplars, and the counters and histograms they make up, keyed by series.
//!
//! Only the shape of the lines is read here; whether an OpenMetrics text is valid is the
//! strict parser's job (`observe_testkit::openmetrics::parse_strict`).

use std::collections::BTreeMap;

pub(crate) type Labels = BTreeMap<String, String>;

/// `# {trace_id="…",span_id="…"} value [timestamp]` after a sample.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Exemplar {
    pub labels: Labels,
    pub value: f64,
}

/// One sample line: `name{labels} value [timestamp] [# exemplar]`.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
    pub exemplar: Option<Exemplar>,
}

/// A histogram series: upper bounds (without `+Inf`) and the cumulative count at each, then
/// the `+Inf` count, the sum, and the exemplars of its buckets.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Histogram {
    pub bounds: Vec<f64>,
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum: f64,
    pub exemplars: Vec<Exemplar>,
}

/// A series: metric name and labels (without `le`).
pub(crate) type Series = (String, Labels);

/// Every sample of `text`; a line that is neither a comment nor a sample fails the test.
pub(crate) fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| sample(line).unwrap_or_else(|| panic!("not a sample line: {line}")))
        .collect()
}

/// The counters: every `_total` sample, by series, with its exemplar.
pub(crate) fn counters(samples: &[Sample]) -> BTreeMap<Series, (f64, Option<Exemplar>)> {
    samples
        .iter()
        .filter(|s| s.name.ends_with("_total"))
        .map(|s| {
            (
                (s.name.clone(), s.labels.clone()),
                (s.value, s.exemplar.clone()),
            )
        })
        .collect()
}

/// The histograms, by series named without the `_bucket` suffix.
pub(crate) fn histograms(samples: &[Sample]) -> BTreeMap<Series, Histogram> {
    let mut out: BTreeMap<Series, Histogram> = BTreeMap::new();
    for s in samples {
        if let Some(base) = s.name.strip_suffix("_bucket") {
            let mut labels = s.labels.clone();
            let le = labels.remove("le").expect("a bucket has le");
            let histogram = out.entry((base.to_owned(), labels)).or_default();
            let count = s.value as u64;
            if le == "+Inf" {
                histogram.count = count;
            } else {
                histogram.bounds.push(le.parse().expect("a numeric le"));
                histogram.cumulative.push(count);
            }
            histogram.exemplars.extend(s.exemplar.clone());
        }
    }
    for s in samples {
        if let Some(base) = s.name.strip_suffix("_sum")
            && let Some(histogram) = out.get_mut(&(base.to_owned(), s.labels.clone()))
        {
            histogram.sum = s.value;
        }
    }
    out
}

fn sample(line: &str) -> Option<Sample> {
    let (name, labels, rest) = series(line)?;
    let (value_part, exemplar_part) = match rest.split_once(" # ") {
        Some((value, exemplar)) => (value, Some(exemplar)),
        None => (rest, None),
    };
    let value = number(value_part.split_whitespace().next()?)?;
    let exemplar = match exemplar_part {
        Some(text) => {
            let (_, labels, rest) = series(text)?;
            let value = number(rest.split_whitespace().next()?)?;
            Some(Exemplar { labels, value })
        }
        None => None,
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
        exemplar,
    })
}

fn number(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        text => text.parse().ok(),
    }
}

/// `name{k="v",…}` (either part may be missing in an exemplar: `{…}` alone), then the rest
/// of the line after one space.
fn series(text: &str) -> Option<(&str, Labels, &str)> {
    let name_end = text.find(['{', ' ']).unwrap_or(text.len());
    let name = &text[..name_end];
    let mut rest = &text[name_end..];
    let mut labels = Labels::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            inner = inner.strip_prefix(',').unwrap_or(inner);
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = inner.split_once("=\"")?;
            let (value, after) = quoted(after)?;
            labels.insert(key.to_owned(), value);
            inner = after;
        }
    }
    Some((name, labels, rest.strip_prefix(' ')?))
}

/// A label value up to its closing quote, unescaped; and what follows the quote.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                escaped => value.push(escaped),
            },
            '"' => return Some((value, &text[i + 1..])),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_labels_and_exemplars() {
        let text = "# TYPE db_event counter\n\
            db_event_total{route=\"/songs/{id}\",q=\"a \\\"b\\\"\"} 3 # {trace_id=\"ab\",span_id=\"cd\"} 1 1700000000.5\n\
            d_bucket{le=\"0.1\"} 1 # {trace_id=\"ef\"} 0.05\n\
            d_bucket{le=\"+Inf\"} 2\n\
            d_sum 0.55\n\
            d_count 2\n\
            up 1\n\
            # EOF\n";
        let samples = samples(text);
        assert_eq!(samples.len(), 6);
        let counters = counters(&samples);
        let ((name, labels), (value, exemplar)) = counters.iter().next().unwrap();
        assert_eq!((name.as_str(), *value), ("db_event_total", 3.0));
        assert_eq!(labels["route"], "/songs/{id}");
        assert_eq!(labels["q"], "a \"b\"");
        assert_eq!(exemplar.as_ref().unwrap().labels["span_id"], "cd");
        let histograms = histograms(&samples);
        let d = &histograms[&("d".to_owned(), Labels::new())];
        assert_eq!(
            (d.bounds.as_slice(), d.cumulative.as_slice(), d.count, d.sum),
            (&[0.1][..], &[1][..], 2, 0.55)
        );
        assert_eq!(d.exemplars[0].value, 0.05);
    }
}
