//! From a closed span record to one observation of its series.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tracing_core::Metadata;

use super::cache::{Probe, SeriesCache};
use super::exemplar::Candidate;
use super::family::{Family, Resolved, SeriesSnapshot};
use super::labels;
use crate::context::SpanRecord;
use crate::fields::METRIC_NAME;
use crate::value::FieldValue;

/// The families every [`Signals`](crate::Signals) layer of one
/// [`Metrics`](super::Metrics) records into.
pub(crate) struct Recording {
    bounds: Arc<[f64]>,
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

/// One family's series, as a render reads them.
#[derive(Debug)]
pub(crate) struct FamilySnapshot {
    /// The base name: `<name>_total`, `<name>_duration_seconds`.
    pub(crate) name: String,
    pub(crate) series: Vec<SeriesSnapshot>,
}

impl Recording {
    pub(crate) fn new(bounds: Arc<[f64]>, limit: usize) -> Self {
        Recording {
            bounds,
            limit,
            cache: SeriesCache::default(),
            families: RwLock::default(),
        }
    }

    /// Counts the closed span and observes its latency, if it names a metric. A sampled
    /// span is offered as its bucket's exemplar.
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
        let latency = record.latency()?;
        let exemplar = record.is_sampled().then(|| Candidate {
            trace_id: record.trace_id(),
            span_id: record.span_id(),
            ended: record.started() + latency,
        });
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
            .with_series(&probe, |series| series.observe(latency, exemplar.as_ref()))
        {
            Ok(()) => None,
            Err(hash) => self.observe_uncached(hash, &probe, latency, exemplar.as_ref()),
        }
    }

    #[cold]
    fn observe_uncached<'v, L>(
        &self,
        hash: u64,
        probe: &Probe<'_, L>,
        latency: std::time::Duration,
        exemplar: Option<&Candidate>,
    ) -> Option<Overflowed>
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let family = self.family(probe.name);
        match family.resolve(probe.labels.clone(), probe.outcome) {
            Resolved::Regular(series) => {
                series.observe(latency, exemplar);
                self.cache.insert(hash, probe, series);
                None
            }
            // Not cached: the point of the guard is that unbounded label values stop costing
            // memory, so past the limit each call re-checks the family (no allocation).
            Resolved::Overflow { series, first } => {
                series.observe(latency, exemplar);
                first.then(|| Overflowed {
                    metric: probe.name.into(),
                    limit: self.limit,
                })
            }
        }
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
            .or_insert_with(|| Arc::new(Family::new(name, self.bounds.clone(), self.limit)))
            .clone()
    }

    /// Every family, sorted by name.
    pub(crate) fn snapshot(&self) -> Vec<FamilySnapshot> {
        let families: Vec<Arc<Family>> = self
            .families
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut snapshot: Vec<FamilySnapshot> = families
            .iter()
            .map(|family| FamilySnapshot {
                name: family.name().to_owned(),
                series: family.snapshot(),
            })
            .collect();
        snapshot.sort_by(|a, b| a.name.cmp(&b.name));
        snapshot
    }
}
