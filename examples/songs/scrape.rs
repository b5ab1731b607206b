//! Reading the service's own `/metrics` back: the samples of the text exposition, sums over
//! label sets, and `histogram_quantile` as Prometheus computes it.

use std::collections::BTreeMap;

/// One sample line: `name{labels} value`.
pub(crate) struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Sample {
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

/// The samples of a text exposition (comments and lines that do not parse are skipped).
pub(crate) struct Scrape {
    samples: Vec<Sample>,
}

impl Scrape {
    pub(crate) fn parse(exposition: &str) -> Scrape {
        let samples = exposition
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(parse_sample)
            .collect();
        Scrape { samples }
    }

    /// The first sample named `name` whose labels `keep` accepts.
    pub(crate) fn find(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> Option<&Sample> {
        self.samples.iter().find(|s| s.name == name && keep(s))
    }

    /// The sum of the samples named `name` whose labels `keep` accepts.
    pub(crate) fn sum(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name && keep(s))
            .map(|s| s.value)
            .sum()
    }

    /// Prometheus's `histogram_quantile(q, sum by (le) (<histogram>_bucket{…}))` over the
    /// series `keep` accepts: linear interpolation inside the bucket that holds the rank.
    pub(crate) fn quantile(&self, q: f64, histogram: &str, keep: impl Fn(&Sample) -> bool) -> f64 {
        let bucket = format!("{histogram}_bucket");
        let mut cumulative: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
        for sample in self.samples.iter().filter(|s| s.name == bucket && keep(s)) {
            let upper = match sample.label("le") {
                Some("+Inf") => f64::INFINITY,
                Some(le) => match le.parse::<f64>() {
                    Ok(upper) => upper,
                    Err(_) => continue,
                },
                None => continue,
            };
            // Non-negative bounds order as their bit patterns do.
            cumulative.entry(upper.to_bits()).or_insert((upper, 0.0)).1 += sample.value;
        }
        let Some(&(_, total)) = cumulative.values().last() else {
            return f64::NAN;
        };
        let rank = q * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for &(upper, count) in cumulative.values() {
            if count >= rank && count > below {
                if upper.is_infinite() {
                    return lower;
                }
                return lower + (upper - lower) * (rank - below) / (count - below);
            }
            (lower, below) = (upper, count);
        }
        lower
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        Some((name, labels)) => (name, parse_labels(labels.strip_suffix('}')?)),
        None => (series, BTreeMap::new()),
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(if escaped == 'n' { '\n' } else { escaped });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = &after[end..];
    }
    labels
}
