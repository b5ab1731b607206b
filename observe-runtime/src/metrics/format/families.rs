//! The model of an exposition: families of series, each a number or a histogram.

use std::sync::Arc;

use crate::metrics::exemplar::Exemplar;

/// What a family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

/// One metric family: the name its `# TYPE` line gives in the text format 0.0.4 (so a
/// counter's name usually ends in `_total`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Family {
    pub(crate) name: String,
    pub(crate) help: Option<String>,
    pub(crate) kind: Kind,
    pub(crate) samples: Vec<Sample>,
}

/// One series of a family.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) point: Point,
}

/// A series' value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Point {
    /// A counter's or gauge's value, with the counter's exemplar.
    Number {
        value: f64,
        exemplar: Option<Exemplar>,
    },
    /// A histogram.
    Histogram {
        /// Upper bounds without `+Inf`.
        bounds: Arc<[f64]>,
        /// Per bucket, not cumulative; one more than `bounds`.
        counts: Vec<u64>,
        sum: f64,
        /// Per bucket, as `counts`; empty when the source keeps none.
        exemplars: Vec<Option<Exemplar>>,
    },
    /// A summary's sample, kept as written (`_sum`, `_count`, or a `quantile`).
    Raw { suffix: String, value: f64 },
}
