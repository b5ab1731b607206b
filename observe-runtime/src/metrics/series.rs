//! One label set's aggregate: the buckets, sum and exemplars of its duration histogram,
//! whose total count is also its `_total` counter.
//!
//! observe keeps these itself rather than in metrics-exporter-prometheus: the exporter
//! renders text and nothing else, while the OpenMetrics exposition needs exemplars on the
//! buckets and the OTLP push needs the buckets as numbers. Recording is one atomic add to
//! the bucket, one to the sum (in nanoseconds, so that it is exact and needs no
//! compare-and-swap loop) and a load for the exemplar; the counter and the histogram's
//! count are the same number, so `_total` and `_count` always agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use super::exemplar::{Candidate, Exemplar, ExemplarSlot};

/// The counts of one histogram, as a render reads them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// Upper bounds, without `+Inf`.
    pub(crate) bounds: Arc<[f64]>,
    /// Per bucket (one more than `bounds`, the last for `+Inf`), not cumulative.
    pub(crate) counts: Vec<u64>,
    /// Seconds.
    pub(crate) sum: f64,
    /// Per bucket, as `counts`.
    pub(crate) exemplars: Vec<Option<Exemplar>>,
}

impl HistogramSnapshot {
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The most recent exemplar of any bucket, for the counter.
    pub(crate) fn latest_exemplar(&self) -> Option<Exemplar> {
        self.exemplars
            .iter()
            .flatten()
            .max_by(|a, b| a.at.cmp(&b.at))
            .copied()
    }
}

#[derive(Debug)]
pub(crate) struct Series {
    bounds: Arc<[f64]>,
    counts: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
    exemplars: Box<[ExemplarSlot]>,
    /// Calls of this label set in progress (`track_concurrency`), kept on the `result="ok"`
    /// series of the label set, which a call looks up as it starts: the lookup is the one
    /// its end makes, so its cache entry serves both.
    in_flight: AtomicI64,
}

impl Series {
    pub(crate) fn new(bounds: Arc<[f64]>) -> Series {
        let buckets = bounds.len() + 1;
        Series {
            counts: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            exemplars: (0..buckets).map(|_| ExemplarSlot::default()).collect(),
            bounds,
            sum_nanos: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }

    /// A call of this label set started.
    pub(crate) fn enter(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A call of this label set ended.
    pub(crate) fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The calls of this label set in progress.
    pub(crate) fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts one call that took `latency`, offering `exemplar` for its bucket.
    #[inline]
    pub(crate) fn observe(&self, latency: Duration, exemplar: Option<&Candidate>) {
        let seconds = latency.as_secs_f64();
        // The first bound the value does not exceed (`le` is inclusive); past the last,
        // the `+Inf` bucket.
        let bucket = self.bounds.partition_point(|&bound| bound < seconds);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Some(candidate) = exemplar {
            self.exemplars[bucket].offer(candidate, seconds);
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: self.bounds.clone(),
            counts: self
                .counts
                .iter()
                .map(|count| count.load(Ordering::Relaxed))
                .collect(),
            sum: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            exemplars: self.exemplars.iter().map(ExemplarSlot::read).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_the_first_bucket_whose_bound_they_do_not_exceed() {
        let series = Series::new([0.001, 0.01, 0.1].into());
        for ms in [0.5, 1.0, 1.5, 10.0, 50.0, 100.0, 100.001, 5000.0] {
            series.observe(Duration::from_secs_f64(ms / 1000.0), None);
        }
        let snapshot = series.snapshot();
        assert_eq!(snapshot.counts, [2, 2, 2, 2]);
        assert_eq!(snapshot.count(), 8);
        assert!((snapshot.sum - 5.263_001).abs() < 1e-9, "{}", snapshot.sum);
    }
}
