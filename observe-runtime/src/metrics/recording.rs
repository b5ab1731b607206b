//! From a closed span record to a counter increment and a histogram observation.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use ::metrics::Recorder;
use tracing_core::Metadata;

use super::cache::{Probe, SeriesCache};
use super::family::{Family, Resolved};
use super::labels;
use crate::context::SpanRecord;
use crate::fields::METRIC_NAME;
use crate::value::FieldValue;

/// What every [`MetricsLayer`](super::MetricsLayer) of one [`Metrics`](super::Metrics)
/// records into.
pub(crate) struct Recording {
    recorder: Arc<dyn Recorder + Send + Sync>,
    limit: usize,
    cache: SeriesCache,
    families: RwLock<HashMap<Box<str>, Arc<Family>>>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// A metric went past its cardinality limit for the first time; the layer logs it once
/// it holds no lock.
#[derive(Debug)]
pub(crate) struct Overflowed {
    pub(crate) metric: Box<str>,
    pub(crate) limit: usize,
}

impl Recording {
    pub(crate) fn new(recorder: Arc<dyn Recorder + Send + Sync>, limit: usize) -> Self {
        Recording {
            recorder,
            limit,
            cache: SeriesCache::default(),
            families: RwLock::default(),
        }
    }

    /// Counts the closed span and observes its latency, if it names a metric.
    pub(crate) fn observe(
        &self,
        metadata: &'static Metadata<'static>,
        record: &SpanRecord,
    ) -> Option<Overflowed> {
        let Some(FieldValue::Str(name)) = record.field(METRIC_NAME) else {
            return None;
        };
        if name.is_empty() {
            return None;
        }
        let seconds = record.latency()?.as_secs_f64();
        let callsite = metadata.callsite();
        let probe = Probe {
            site: std::ptr::from_ref(metadata).addr(),
            callsite: &callsite,
            name,
            labels: labels::of(record),
            outcome: record.outcome(),
        };
        match self
            .cache
            .with_series(&probe, |series| series.observe(seconds))
        {
            Ok(()) => None,
            Err(hash) => self.observe_uncached(hash, &probe, seconds),
        }
    }

    #[cold]
    fn observe_uncached<'v, L>(
        &self,
        hash: u64,
        probe: &Probe<'_, L>,
        seconds: f64,
    ) -> Option<Overflowed>
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let family = self.family(probe.name);
        match family.resolve(probe.labels.clone(), probe.outcome, &*self.recorder) {
            Resolved::Regular(series) => {
                super::gate::observing(|| series.observe(seconds));
                self.cache.insert(hash, probe, series);
                None
            }
            // Not cached: the point of the guard is that unbounded label values stop costing
            // memory, so past the limit each call re-checks the family (no allocation).
            Resolved::Overflow { series, first } => {
                super::gate::observing(|| series.observe(seconds));
                first.then(|| Overflowed {
                    metric: probe.name.into(),
                    limit: self.limit,
                })
            }
        }
    }

    /// Runs a drain of the exporter's histogram buffers (render, upkeep) while no
    /// observation is in flight; see [`gate`](super::gate).
    pub(crate) fn drain<R>(&self, drain: impl FnOnce() -> R) -> R {
        super::gate::draining(drain)
    }

    fn family(&self, name: &str) -> Arc<Family> {
        if let Some(family) = self
            .families
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return family.clone();
        }
        let mut families = self
            .families
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        families
            .entry(name.into())
            .or_insert_with(|| Arc::new(Family::new(name, self.limit, &*self.recorder)))
            .clone()
    }
}
