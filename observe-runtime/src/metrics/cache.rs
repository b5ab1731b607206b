//! The per-call lookup: label values as the span holds them → the series' handles.
//!
//! Keyed by callsite, metric name, typed label values and outcome, and looked up with
//! borrowed values, so a label set seen before costs one hash, one shard read lock and
//! a comparison: no text formatting, no allocation, no recorder lookup. Sharded so that
//! threads working on different label sets do not share a lock word.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use hashbrown::{DefaultHashBuilder, HashTable};
use tracing_core::callsite::Identifier;

use super::family::Series;
use super::labels;
use crate::context::Outcome;
use crate::value::FieldValue;

const SHARDS: usize = 16;

/// What one observation is looked up by, all borrowed from the span record.
#[derive(Clone)]
pub(crate) struct Probe<'a, L> {
    pub(crate) callsite: &'a Identifier,
    pub(crate) name: &'a str,
    pub(crate) labels: L,
    pub(crate) outcome: Outcome,
}

struct Entry {
    hash: u64,
    callsite: Identifier,
    name: Box<str>,
    labels: Box<[(&'static str, FieldValue)]>,
    outcome: Outcome,
    series: Arc<Series>,
}

#[derive(Default)]
pub(crate) struct SeriesCache {
    shards: [RwLock<HashTable<Entry>>; SHARDS],
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for SeriesCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesCache").finish_non_exhaustive()
    }
}

impl SeriesCache {
    pub(crate) fn hash<'v, L>(&self, probe: &Probe<'_, L>) -> u64
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let mut state = self.hasher.build_hasher();
        probe.callsite.hash(&mut state);
        probe.name.hash(&mut state);
        // Keys are fixed per callsite; equality checks them, the hash need not.
        for (_, value) in probe.labels.clone() {
            labels::hash_typed(value, &mut state);
        }
        probe.outcome.hash(&mut state);
        state.finish()
    }

    /// Runs `f` on the cached series, if there is one.
    pub(crate) fn with_series<'v, L, R>(
        &self,
        hash: u64,
        probe: &Probe<'_, L>,
        f: impl FnOnce(&Series) -> R,
    ) -> Option<R>
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let shard = self
            .shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = shard.find(hash, |entry| matches(entry, hash, probe))?;
        Some(f(&entry.series))
    }

    pub(crate) fn insert<'v, L>(&self, hash: u64, probe: &Probe<'_, L>, series: Arc<Series>)
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let mut shard = self
            .shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if shard
            .find(hash, |entry| matches(entry, hash, probe))
            .is_some()
        {
            return;
        }
        let entry = Entry {
            hash,
            callsite: probe.callsite.clone(),
            name: probe.name.into(),
            labels: probe.labels.clone().map(|(k, v)| (k, v.clone())).collect(),
            outcome: probe.outcome,
            series,
        };
        shard.insert_unique(hash, entry, |entry| entry.hash);
    }

    /// Runs `observe` as the cached path does: under a shard's read lock, so that
    /// [`drain`](Self::drain) never runs at the same time.
    pub(crate) fn observing<R>(&self, hash: u64, observe: impl FnOnce() -> R) -> R {
        let _shard = self
            .shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        observe()
    }

    /// Runs `drain` with every shard write-locked: no observation is in flight.
    ///
    /// metrics-util 0.20's `AtomicBucket` (the exporter's histogram buffer) loses a sample
    /// when a drain detaches the buffer between a writer loading it and claiming a slot;
    /// the reliability load test caught it (a histogram count one short of its counter).
    /// Every observation of this layer holds a shard read lock, so draining here cannot race
    /// them. The cost is that recording waits while a scrape renders.
    pub(crate) fn drain<R>(&self, drain: impl FnOnce() -> R) -> R {
        let _shards: Vec<_> = self
            .shards
            .iter()
            .map(|shard| shard.write().unwrap_or_else(PoisonError::into_inner))
            .collect();
        drain()
    }

    fn shard(&self, hash: u64) -> &RwLock<HashTable<Entry>> {
        // Middle bits: hashbrown indexes buckets by the low bits and tags by the top seven.
        &self.shards[(hash >> 32) as usize % SHARDS]
    }
}

fn matches<'v, L>(entry: &Entry, hash: u64, probe: &Probe<'_, L>) -> bool
where
    L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
{
    if entry.hash != hash
        || entry.outcome != probe.outcome
        || entry.callsite != *probe.callsite
        || *entry.name != *probe.name
    {
        return false;
    }
    let mut labels = probe.labels.clone();
    entry.labels.iter().all(|(key, value)| {
        labels
            .next()
            .is_some_and(|(k, v)| *key == k && labels::typed_eq(value, v))
    }) && labels.next().is_none()
}
