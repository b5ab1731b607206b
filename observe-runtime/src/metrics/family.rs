//! One metric family (`<name>_total` + `<name>_duration_seconds`): its label sets, as
//! Prometheus will see them, and the cardinality guard over them.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use hashbrown::{DefaultHashBuilder, HashTable};

use super::labels::{self, RESULT_LABEL};
use super::series::{HistogramSnapshot, Series};
use crate::context::Outcome;
use crate::value::FieldValue;

/// The label of the one series that takes every observation past the cardinality limit
/// (OpenTelemetry's `otel.metric.overflow`, in Prometheus spelling).
pub(crate) const OVERFLOW_LABEL: &str = "otel_metric_overflow";

/// Where an observation goes.
pub(crate) enum Resolved<'a> {
    /// The label set's own series; worth caching.
    Regular(Arc<Series>),
    /// The overflow series; `first` is true for the one call that must warn.
    Overflow { series: &'a Series, first: bool },
}

/// A label set by its text, so that `3` and `"3"`, or two callsites declaring the same
/// labels, count once against the limit, as they are one series to Prometheus.
struct LabelSet {
    hash: u64,
    labels: Box<[(&'static str, Box<str>)]>,
    outcome: Outcome,
    series: Arc<Series>,
}

/// One series of a family as a render reads it: its labels (`result` last) and counts.
#[derive(Debug)]
pub(crate) struct SeriesSnapshot {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) histogram: HistogramSnapshot,
}

/// One metric name's label sets and overflow series.
#[derive(Debug)]
pub(crate) struct Family {
    name: Box<str>,
    bounds: Arc<[f64]>,
    limit: usize,
    sets: RwLock<HashTable<LabelSet>>,
    overflow: OnceLock<Series>,
    warned: AtomicBool,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelSet")
            .field("labels", &self.labels)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl Family {
    /// A family for `name` (`<name>_total`, `<name>_duration_seconds`), its histograms
    /// bounded by `bounds`.
    pub(crate) fn new(name: &str, bounds: Arc<[f64]>, limit: usize) -> Family {
        Family {
            name: name.into(),
            bounds,
            limit,
            sets: RwLock::default(),
            overflow: OnceLock::new(),
            warned: AtomicBool::new(false),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The series for these labels and outcome: found, newly made while under the limit,
    /// or the overflow series. Finding one allocates nothing.
    pub(crate) fn resolve<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
        outcome: Outcome,
    ) -> Resolved<'_> {
        let hash = self.hash(labels.clone(), outcome);
        let eq = |set: &LabelSet| {
            set.hash == hash && set.outcome == outcome && text_eq(&set.labels, labels.clone())
        };
        {
            let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(set) = sets.find(hash, eq) {
                return Resolved::Regular(set.series.clone());
            }
            if sets.len() >= self.limit {
                drop(sets);
                return self.overflow();
            }
        }
        let mut sets = self.sets.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = sets.find(hash, eq) {
            return Resolved::Regular(set.series.clone());
        }
        if sets.len() >= self.limit {
            drop(sets);
            return self.overflow();
        }
        let owned: Box<[(&'static str, Box<str>)]> = labels
            .map(|(key, value)| (key, labels::with_text(value, |text| Box::<str>::from(text))))
            .collect();
        let series = Arc::new(Series::new(self.bounds.clone()));
        sets.insert_unique(
            hash,
            LabelSet {
                hash,
                labels: owned,
                outcome,
                series: series.clone(),
            },
            |set| set.hash,
        );
        Resolved::Regular(series)
    }

    fn overflow(&self) -> Resolved<'_> {
        let series = self
            .overflow
            .get_or_init(|| Series::new(self.bounds.clone()));
        let first = !self.warned.swap(true, Ordering::Relaxed);
        Resolved::Overflow { series, first }
    }

    /// Every series, labels in declaration order then `result` (the overflow series
    /// labelled `otel_metric_overflow="true"` only), sorted by labels.
    pub(crate) fn snapshot(&self) -> Vec<SeriesSnapshot> {
        let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
        let mut series: Vec<SeriesSnapshot> = sets
            .iter()
            .map(|set| SeriesSnapshot {
                labels: set
                    .labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                    .chain([(RESULT_LABEL.to_owned(), set.outcome.as_str().to_owned())])
                    .collect(),
                histogram: set.series.snapshot(),
            })
            .collect();
        drop(sets);
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        if let Some(overflow) = self.overflow.get() {
            series.push(SeriesSnapshot {
                labels: vec![(OVERFLOW_LABEL.to_owned(), "true".to_owned())],
                histogram: overflow.snapshot(),
            });
        }
        series
    }

    fn hash<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)>,
        outcome: Outcome,
    ) -> u64 {
        let mut state = self.hasher.build_hasher();
        for (key, value) in labels {
            key.hash(&mut state);
            labels::with_text(value, |text| text.hash(&mut state));
        }
        outcome.hash(&mut state);
        std::hash::Hasher::finish(&state)
    }
}

fn text_eq<'v>(
    owned: &[(&'static str, Box<str>)],
    mut labels: impl Iterator<Item = (&'static str, &'v FieldValue)>,
) -> bool {
    owned.iter().all(|(key, text)| {
        labels
            .next()
            .is_some_and(|(k, v)| *key == k && labels::with_text(v, |t| t == &**text))
    }) && labels.next().is_none()
}
