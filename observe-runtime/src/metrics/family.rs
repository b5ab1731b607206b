//! One metric family (`<name>_total` + `<name>_duration_seconds`): its label sets, as
//! Prometheus will see them, and the cardinality guard over them.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use ::metrics::{Counter, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, Unit};
use hashbrown::{DefaultHashBuilder, HashTable};

use super::labels::{self, RESULT_LABEL};
use crate::context::Outcome;
use crate::value::FieldValue;

/// The label of the one series that takes every observation past the cardinality limit
/// (OpenTelemetry's `otel.metric.overflow`, in Prometheus spelling).
pub(crate) const OVERFLOW_LABEL: &str = "otel_metric_overflow";

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The counter and histogram of one label set.
#[derive(Debug)]
pub(crate) struct Series {
    counter: Counter,
    histogram: Histogram,
}

impl Series {
    fn register(recorder: &dyn Recorder, family: &Family, labels: Vec<Label>) -> Series {
        let histogram = Key::from_parts(family.duration.clone(), labels.clone());
        let counter = Key::from_parts(family.total.clone(), labels);
        Series {
            counter: recorder.register_counter(&counter, &METADATA),
            histogram: recorder.register_histogram(&histogram, &METADATA),
        }
    }

    pub(crate) fn observe(&self, seconds: f64) {
        self.counter.increment(1);
        self.histogram.record(seconds);
    }
}

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

/// One metric name's label sets and overflow series.
#[derive(Debug)]
pub(crate) struct Family {
    total: KeyName,
    duration: KeyName,
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
    /// A family for `name`, described to the recorder so that the exposition has the
    /// `# HELP` lines `promtool` asks for.
    pub(crate) fn new(name: &str, limit: usize, recorder: &dyn Recorder) -> Family {
        let total = KeyName::from(format!("{name}_total"));
        let duration = KeyName::from(format!("{name}_duration_seconds"));
        recorder.describe_counter(
            total.clone(),
            None,
            format!("Completed calls of {name}, by result.").into(),
        );
        recorder.describe_histogram(
            duration.clone(),
            Some(Unit::Seconds),
            format!("Duration of calls of {name} in seconds, by result.").into(),
        );
        Family {
            total,
            duration,
            limit,
            sets: RwLock::default(),
            overflow: OnceLock::new(),
            warned: AtomicBool::new(false),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// The series for these labels and outcome: found, newly registered while under the
    /// limit, or the overflow series. Finding one allocates nothing.
    pub(crate) fn resolve<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
        outcome: Outcome,
        recorder: &dyn Recorder,
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
                return self.overflow(recorder);
            }
        }
        let mut sets = self.sets.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = sets.find(hash, eq) {
            return Resolved::Regular(set.series.clone());
        }
        if sets.len() >= self.limit {
            drop(sets);
            return self.overflow(recorder);
        }
        let owned: Box<[(&'static str, Box<str>)]> = labels
            .map(|(key, value)| (key, labels::with_text(value, |text| Box::<str>::from(text))))
            .collect();
        let mut recorder_labels: Vec<Label> = owned
            .iter()
            .map(|(key, value)| Label::new(*key, String::from(&**value)))
            .collect();
        recorder_labels.push(Label::from_static_parts(RESULT_LABEL, outcome.as_str()));
        let series = Arc::new(Series::register(recorder, self, recorder_labels));
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

    fn overflow(&self, recorder: &dyn Recorder) -> Resolved<'_> {
        let series = self.overflow.get_or_init(|| {
            Series::register(
                recorder,
                self,
                vec![Label::from_static_parts(OVERFLOW_LABEL, "true")],
            )
        });
        let first = !self.warned.swap(true, Ordering::Relaxed);
        Resolved::Overflow { series, first }
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
