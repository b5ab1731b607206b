//! `<metric>_in_flight`: how many calls of a `#[observe(track_concurrency)]` function are
//! in progress, by the labels the span has when it opens.
//!
//! A call takes an [`InFlightCall`] when its span opens and gives it back when the span
//! closes, which `tracing` does however the call ends: a return, an `Err`, a panic
//! (unwinding drops the span) or a cancelled future (dropping it drops its span). The
//! gauge is a signed atomic per label set, one add on open and one on close.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use hashbrown::{DefaultHashBuilder, HashTable};

use super::family::{OVERFLOW_LABEL, owned_labels, text_eq};
use super::labels;
use crate::value::FieldValue;

/// The gauge's name for a metric.
pub(crate) fn gauge_name(metric: &str) -> String {
    format!("{metric}_in_flight")
}

/// A call in progress: it counts in its label set's gauge until dropped.
#[derive(Debug)]
pub(crate) struct InFlightCall(Arc<AtomicI64>);

impl Drop for InFlightCall {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Gauge {
    hash: u64,
    labels: Box<[(&'static str, Box<str>)]>,
    calls: Arc<AtomicI64>,
}

/// One metric's in-flight gauges, under the metric's cardinality limit: past it, calls
/// count in one gauge labelled `otel_metric_overflow="true"`, as the other series do.
pub(crate) struct InFlightFamily {
    limit: usize,
    gauges: RwLock<HashTable<Gauge>>,
    overflow: OnceLock<Arc<AtomicI64>>,
    warned: AtomicBool,
    hasher: DefaultHashBuilder,
}

/// One gauge as a render reads it.
#[derive(Debug)]
pub(crate) struct GaugeSnapshot {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: i64,
}

impl std::fmt::Debug for InFlightFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlightFamily")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl InFlightFamily {
    pub(crate) fn new(limit: usize) -> Self {
        InFlightFamily {
            limit,
            gauges: RwLock::default(),
            overflow: OnceLock::new(),
            warned: AtomicBool::new(false),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Counts a call in the gauge of these labels. The flag is true for the one call that
    /// first went past the limit, which must warn.
    pub(crate) fn start<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    ) -> (InFlightCall, bool) {
        let (calls, first_overflow) = self.gauge(labels);
        calls.fetch_add(1, Ordering::Relaxed);
        (InFlightCall(calls), first_overflow)
    }

    /// The gauge of these labels: found, made at 0 while under the limit, or the overflow
    /// gauge.
    pub(crate) fn gauge<'v>(
        &self,
        labels: impl Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    ) -> (Arc<AtomicI64>, bool) {
        let hash = self.hash(labels.clone());
        let eq = |gauge: &Gauge| gauge.hash == hash && text_eq(&gauge.labels, labels.clone());
        {
            let gauges = self.gauges.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(gauge) = gauges.find(hash, eq) {
                return (gauge.calls.clone(), false);
            }
        }
        let mut gauges = self.gauges.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(gauge) = gauges.find(hash, eq) {
            return (gauge.calls.clone(), false);
        }
        if gauges.len() >= self.limit {
            drop(gauges);
            let overflow = self.overflow.get_or_init(Arc::default).clone();
            return (overflow, !self.warned.swap(true, Ordering::Relaxed));
        }
        let calls = Arc::new(AtomicI64::new(0));
        gauges.insert_unique(
            hash,
            Gauge {
                hash,
                labels: owned_labels(labels),
                calls: calls.clone(),
            },
            |gauge| gauge.hash,
        );
        (calls, false)
    }

    /// Every gauge, sorted by labels, the overflow gauge last.
    pub(crate) fn snapshot(&self) -> Vec<GaugeSnapshot> {
        let gauges = self.gauges.read().unwrap_or_else(PoisonError::into_inner);
        let mut snapshot: Vec<GaugeSnapshot> = gauges
            .iter()
            .map(|gauge| GaugeSnapshot {
                labels: gauge
                    .labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                    .collect(),
                value: gauge.calls.load(Ordering::Relaxed),
            })
            .collect();
        drop(gauges);
        snapshot.sort_by(|a, b| a.labels.cmp(&b.labels));
        if let Some(overflow) = self.overflow.get() {
            snapshot.push(GaugeSnapshot {
                labels: vec![(OVERFLOW_LABEL.to_owned(), "true".to_owned())],
                value: overflow.load(Ordering::Relaxed),
            });
        }
        snapshot
    }

    fn hash<'v>(&self, labels: impl Iterator<Item = (&'static str, &'v FieldValue)>) -> u64 {
        let mut state = self.hasher.build_hasher();
        for (key, value) in labels {
            key.hash(&mut state);
            labels::with_text(value, |text| text.hash(&mut state));
        }
        std::hash::Hasher::finish(&state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Text;

    fn labels(values: &[(&'static str, &str)]) -> Vec<(&'static str, FieldValue)> {
        values
            .iter()
            .map(|(k, v)| (*k, FieldValue::Str(Text::from(*v))))
            .collect()
    }

    fn value(family: &InFlightFamily, of: &[(&'static str, FieldValue)]) -> i64 {
        family
            .gauge(of.iter().map(|(k, v)| (*k, v)))
            .0
            .load(Ordering::Relaxed)
    }

    #[test]
    fn a_call_counts_until_it_is_dropped() {
        let family = InFlightFamily::new(10);
        let a = labels(&[("route", "/a")]);
        let b = labels(&[("route", "/b")]);
        let (first, _) = family.start(a.iter().map(|(k, v)| (*k, v)));
        let (second, _) = family.start(a.iter().map(|(k, v)| (*k, v)));
        let (other, _) = family.start(b.iter().map(|(k, v)| (*k, v)));
        assert_eq!((value(&family, &a), value(&family, &b)), (2, 1));
        drop(first);
        drop(other);
        assert_eq!((value(&family, &a), value(&family, &b)), (1, 0));
        drop(second);
        assert_eq!(value(&family, &a), 0);
        let snapshot = family.snapshot();
        assert_eq!(snapshot.len(), 2, "a gauge stays, at 0, once made");
    }

    #[test]
    fn past_the_limit_calls_count_in_the_overflow_gauge() {
        let family = InFlightFamily::new(1);
        let a = labels(&[("route", "/a")]);
        let b = labels(&[("route", "/b")]);
        let c = labels(&[("route", "/c")]);
        let (_a, first) = family.start(a.iter().map(|(k, v)| (*k, v)));
        assert!(!first);
        let (_b, first) = family.start(b.iter().map(|(k, v)| (*k, v)));
        assert!(first, "the first call past the limit warns");
        let (_c, first) = family.start(c.iter().map(|(k, v)| (*k, v)));
        assert!(!first, "once");
        let snapshot = family.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert_eq!(snapshot[1].labels, [(OVERFLOW_LABEL.into(), "true".into())]);
        assert_eq!(snapshot[1].value, 2);
    }
}
