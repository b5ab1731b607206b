//! One metric family (`<name>_total` + `<name>_duration_seconds`): its label sets, as
//! Prometheus will see them, and the cardinality guard over them.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use hashbrown::{DefaultHashBuilder, HashTable};

use super::labels::{self, RESULT_LABEL};
use super::series::{HistogramSnapshot, Series};
use crate::context::Outcome;
use crate::observed::Objective;
use crate::value::FieldValue;

/// The label of the one series that takes every observation past the cardinality limit
/// (OpenTelemetry's `otel.metric.overflow`, in Prometheus spelling).
pub(crate) use observe_fields::OVERFLOW_LABEL;

/// Where an observation goes.
pub(crate) enum Resolved<'a> {
    /// The label set's own series; worth caching.
    Regular(Arc<Series>),
    /// The overflow series; `first` is true for the one call that must warn.
    Overflow {
        series: &'a Arc<Series>,
        first: bool,
    },
}

/// A label set by its text, so that `3` and `"3"`, or two callsites declaring the same
/// labels, count once against the limit, as they are one series to Prometheus.
///
/// A function's [`Objective`] is part of its series' identity: its labels are, in
/// Prometheus, and two functions sharing a metric name and labels but not an objective are
/// two series.
struct LabelSet {
    hash: u64,
    labels: Box<[(&'static str, Box<str>)]>,
    outcome: Outcome,
    objective: Option<&'static Objective>,
    series: Arc<Series>,
}

/// One series of a family as a render reads it: its labels (`result` last), its objective
/// (whose labels the render adds) and counts.
#[derive(Debug)]
pub(crate) struct SeriesSnapshot {
    pub(crate) labels: Vec<(String, String)>,
    /// `None` for the overflow series.
    pub(crate) outcome: Option<Outcome>,
    pub(crate) objective: Option<&'static Objective>,
    pub(crate) histogram: HistogramSnapshot,
    /// Calls in progress (counted on `result="ok"` series and the overflow series).
    pub(crate) in_flight: i64,
}

/// One metric name's label sets and overflow series.
#[derive(Debug)]
pub(crate) struct Family {
    name: Box<str>,
    bounds: Arc<[f64]>,
    limit: usize,
    /// The bounds of the series of objectives whose latency threshold `bounds` lacks, by
    /// threshold (a handful at most): the threshold added.
    objective_bounds: Mutex<Vec<(u64, Arc<[f64]>)>>,
    sets: RwLock<HashTable<LabelSet>>,
    overflow: OnceLock<Arc<Series>>,
    /// Some function of this metric has `track_concurrency`: its `<name>_in_flight` gauge
    /// is rendered.
    tracks_in_flight: AtomicBool,
    warned: AtomicBool,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelSet")
            .field("labels", &self.labels)
            .field("outcome", &self.outcome)
            .field("objective", &self.objective)
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
            objective_bounds: Mutex::default(),
            sets: RwLock::default(),
            overflow: OnceLock::new(),
            tracks_in_flight: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// From now on, the family's `<name>_in_flight` gauge is rendered.
    pub(crate) fn track_in_flight(&self) {
        self.tracks_in_flight.store(true, Ordering::Relaxed);
    }

    pub(crate) fn tracks_in_flight(&self) -> bool {
        self.tracks_in_flight.load(Ordering::Relaxed)
    }

    /// The series for these labels, outcome and objective: found, newly made while under
    /// the limit, or the overflow series. Finding one allocates nothing.
    pub(crate) fn resolve<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
        outcome: Outcome,
        objective: Option<&'static Objective>,
    ) -> Resolved<'_> {
        let hash = self.hash(labels.clone(), outcome, objective);
        let eq = |set: &LabelSet| {
            set.hash == hash
                && set.outcome == outcome
                && same_objective(set.objective, objective)
                && text_eq(&set.labels, labels.clone())
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
        let owned = owned_labels(labels);
        let series = Arc::new(Series::new(self.bounds_for(objective)));
        sets.insert_unique(
            hash,
            LabelSet {
                hash,
                labels: owned,
                outcome,
                objective,
                series: series.clone(),
            },
            |set| set.hash,
        );
        Resolved::Regular(series)
    }

    /// The histogram bounds of a series: the family's, with the objective's latency
    /// threshold added when they lack it, so that the SLO rules always find a bucket whose
    /// `le` is the threshold.
    fn bounds_for(&self, objective: Option<&'static Objective>) -> Arc<[f64]> {
        let Some((threshold, _)) = objective.and_then(|objective| objective.latency) else {
            return self.bounds.clone();
        };
        if self.bounds.contains(&threshold) {
            return self.bounds.clone();
        }
        let mut known = self
            .objective_bounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, bounds)) = known.iter().find(|(bits, _)| *bits == threshold.to_bits()) {
            return bounds.clone();
        }
        let mut bounds = self.bounds.to_vec();
        let at = bounds.partition_point(|bound| *bound < threshold);
        bounds.insert(at, threshold);
        let bounds: Arc<[f64]> = bounds.into();
        known.push((threshold.to_bits(), bounds.clone()));
        bounds
    }

    fn overflow(&self) -> Resolved<'_> {
        let series = self
            .overflow
            .get_or_init(|| Arc::new(Series::new(self.bounds.clone())));
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
                outcome: Some(set.outcome),
                objective: set.objective,
                histogram: set.series.snapshot(),
                in_flight: set.series.in_flight(),
            })
            .collect();
        drop(sets);
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        if let Some(overflow) = self.overflow.get() {
            series.push(SeriesSnapshot {
                labels: vec![(OVERFLOW_LABEL.to_owned(), "true".to_owned())],
                outcome: None,
                objective: None,
                histogram: overflow.snapshot(),
                in_flight: overflow.in_flight(),
            });
        }
        series
    }

    fn hash<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)>,
        outcome: Outcome,
        objective: Option<&'static Objective>,
    ) -> u64 {
        let mut state = self.hasher.build_hasher();
        for (key, value) in labels {
            key.hash(&mut state);
            labels::with_text(value, |text| text.hash(&mut state));
        }
        outcome.hash(&mut state);
        if let Some(objective) = objective {
            objective.name.hash(&mut state);
            objective.success.hash(&mut state);
            objective
                .latency
                .map(|(threshold, percentile)| (threshold.to_bits(), percentile))
                .hash(&mut state);
        }
        std::hash::Hasher::finish(&state)
    }
}

/// By value, as their labels compare: two functions may declare the same objective.
fn same_objective(a: Option<&'static Objective>, b: Option<&'static Objective>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    }
}

/// Labels as a series keeps them: each value as its text.
pub(super) fn owned_labels<'v>(
    labels: impl Iterator<Item = (&'static str, &'v FieldValue)>,
) -> Box<[(&'static str, Box<str>)]> {
    labels
        .map(|(key, value)| (key, labels::with_text(value, |text| Box::<str>::from(text))))
        .collect()
}

/// Whether kept labels read as these values do.
pub(super) fn text_eq<'v>(
    owned: &[(&'static str, Box<str>)],
    mut labels: impl Iterator<Item = (&'static str, &'v FieldValue)>,
) -> bool {
    owned.iter().all(|(key, text)| {
        labels
            .next()
            .is_some_and(|(k, v)| *key == k && labels::with_text(v, |t| t == &**text))
    }) && labels.next().is_none()
}
