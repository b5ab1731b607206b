//! From a closed span record to one observation of its series.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tracing_core::Metadata;

use super::cache::{Probe, SeriesCache};
use super::exemplar::Candidate;
use super::family::{Family, Resolved, SeriesSnapshot};
use super::in_flight::{GaugeSnapshot, InFlightCall, InFlightFamily, gauge_name};
use super::labels;
use crate::context::{Outcome, SpanRecord};
use crate::fields::METRIC_NAME;
use crate::observed::{self, ObservedFn};
use crate::value::{FieldValue, Text};

/// The families every [`Signals`](crate::Signals) layer of one
/// [`Metrics`](super::Metrics) records into.
pub(crate) struct Recording {
    bounds: Arc<[f64]>,
    limit: usize,
    cache: SeriesCache,
    families: RwLock<HashMap<Box<str>, Arc<Family>>>,
    in_flight: RwLock<HashMap<Box<str>, Arc<InFlightFamily>>>,
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

/// One metric's in-flight gauges, as a render reads them.
#[derive(Debug)]
pub(crate) struct InFlightSnapshot {
    /// The base name: the gauge is `<name>_in_flight`.
    pub(crate) name: String,
    pub(crate) gauges: Vec<GaugeSnapshot>,
}

impl Recording {
    pub(crate) fn new(bounds: Arc<[f64]>, limit: usize) -> Self {
        Recording {
            bounds,
            limit,
            cache: SeriesCache::default(),
            families: RwLock::default(),
            in_flight: RwLock::default(),
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
        let exemplar = record.leads_to_a_trace().then(|| Candidate {
            trace_id: record.trace_id(),
            span_id: record.propagated_span_id(),
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
            Err(hash) => self.observe_uncached(metadata, hash, &probe, latency, exemplar.as_ref()),
        }
    }

    /// The first call of a label set (from this callsite): the series is found or made,
    /// with the callsite's objective, if it has one, among its labels.
    #[cold]
    fn observe_uncached<'v, L>(
        &self,
        metadata: &'static Metadata<'static>,
        hash: u64,
        probe: &Probe<'_, L>,
        latency: std::time::Duration,
        exemplar: Option<&Candidate>,
    ) -> Option<Overflowed>
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let family = self.family(probe.name);
        let objective = observed::find(metadata).and_then(|entry| entry.objective);
        match family.resolve(probe.labels.clone(), probe.outcome, objective) {
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

    /// Counts the opening span in its `<metric>_in_flight` gauge, by the labels it has
    /// now, until the returned call is dropped (when the span closes).
    pub(crate) fn start_call(
        &self,
        record: &SpanRecord,
    ) -> Option<(InFlightCall, Option<Overflowed>)> {
        let Some(FieldValue::Str(name)) = record.field(METRIC_NAME) else {
            return None;
        };
        if name.is_empty() {
            return None;
        }
        let (call, first_overflow) = self.in_flight_family(name).start(labels::of(record));
        let overflowed = first_overflow.then(|| Overflowed {
            metric: gauge_name(name).into(),
            limit: self.limit,
        });
        Some((call, overflowed))
    }

    /// Makes an observed function's series before its first call, so that they read 0
    /// from the first scrape: its counter and histogram for `result="ok"` and
    /// `result="error"`, and its in-flight gauge. Only for labels known at compile time
    /// (an entry whose labels come from arguments has none to make).
    pub(crate) fn register(&self, entry: &ObservedFn) {
        let Some(known) = entry.labels else { return };
        let values: Vec<(&'static str, FieldValue)> = known
            .iter()
            .map(|(key, value)| (*key, FieldValue::Str(Text::from(*value))))
            .collect();
        let labels = values.iter().map(|(key, value)| (*key, value));
        let family = self.family(entry.metric);
        for outcome in [Outcome::Ok, Outcome::Error] {
            // Past the limit, nothing is made: the overflow series stands for them all.
            let _ = family.resolve(labels.clone(), outcome, entry.objective);
        }
        if entry.track_concurrency {
            let _ = self.in_flight_family(entry.metric).gauge(labels);
        }
    }

    fn in_flight_family(&self, name: &str) -> Arc<InFlightFamily> {
        if let Some(family) = self
            .in_flight
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return family.clone();
        }
        let mut families = self
            .in_flight
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        families
            .entry(name.into())
            .or_insert_with(|| Arc::new(InFlightFamily::new(self.limit)))
            .clone()
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

    /// Every in-flight gauge family, sorted by name.
    pub(crate) fn in_flight_snapshot(&self) -> Vec<InFlightSnapshot> {
        let families: Vec<(Box<str>, Arc<InFlightFamily>)> = self
            .in_flight
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, family)| (name.clone(), family.clone()))
            .collect();
        let mut snapshot: Vec<InFlightSnapshot> = families
            .iter()
            .map(|(name, family)| InFlightSnapshot {
                name: name.to_string(),
                gauges: family.snapshot(),
            })
            .collect();
        snapshot.sort_by(|a, b| a.name.cmp(&b.name));
        snapshot
    }
}
