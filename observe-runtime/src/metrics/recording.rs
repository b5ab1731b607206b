//! From a closed span record to one observation of its series.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tracing_core::Metadata;

use super::cache::{Probe, SeriesCache};
use super::exemplar::Candidate;
use super::family::{Family, Resolved, SeriesSnapshot};
use super::in_flight::InFlightCall;
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
    /// `<name>_in_flight` is rendered.
    pub(crate) in_flight: bool,
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
        let exemplar = record.leads_to_a_trace().then(|| Candidate {
            trace_id: record.trace_id(),
            span_id: record.propagated_span_id(),
            ended: record.started() + latency,
        });
        // A tracked call found its `ok` series when it started; unless its labels changed
        // since, a success is counted there without a second lookup.
        if let Some(call) = &record.in_flight
            && record.outcome() == Outcome::Ok
            && !record.metric_fields_changed
        {
            call.ok_series().observe(latency, exemplar.as_ref());
            return None;
        }
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
        let metadata = record.metadata;
        let callsite = metadata.callsite();
        let probe = Probe {
            site: std::ptr::from_ref(metadata).addr(),
            callsite: &callsite,
            name,
            labels: labels::of(record),
            outcome: Outcome::Ok,
        };
        let mut call = None;
        match self.cache.with_series(&probe, |series| {
            call = Some(InFlightCall::start(series.clone()));
        }) {
            Ok(()) => call.map(|call| (call, None)),
            Err(hash) => Some(self.start_call_uncached(metadata, hash, &probe)),
        }
    }

    /// The first call of a label set from this callsite: its `result="ok"` series is found
    /// or made, and its family renders the gauge from now on.
    #[cold]
    fn start_call_uncached<'v, L>(
        &self,
        metadata: &'static Metadata<'static>,
        hash: u64,
        probe: &Probe<'_, L>,
    ) -> (InFlightCall, Option<Overflowed>)
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let family = self.family(probe.name);
        family.track_in_flight();
        let objective = observed::find(metadata).and_then(|entry| entry.objective);
        match family.resolve(probe.labels.clone(), Outcome::Ok, objective) {
            Resolved::Regular(series) => {
                self.cache.insert(hash, probe, series.clone());
                (InFlightCall::start(series), None)
            }
            Resolved::Overflow { series, first } => (
                InFlightCall::start(series.clone()),
                first.then(|| Overflowed {
                    metric: probe.name.into(),
                    limit: self.limit,
                }),
            ),
        }
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
            family.track_in_flight();
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
                in_flight: family.tracks_in_flight(),
            })
            .collect();
        snapshot.sort_by(|a, b| a.name.cmp(&b.name));
        snapshot
    }
}
