//! The per-call lookup: label values as the span holds them → the series' handles.
//!
//! Keyed by callsite, metric name, typed label values and outcome, and looked up with
//! borrowed values, so a label set seen before costs one hash, one shard read lock and
//! a comparison: no text formatting, no allocation, no recorder lookup. Sharded so that
//! threads working on different label sets do not share a lock word; and each thread keeps
//! the entries it used last, so that threads on the *same* label set do not write a shared
//! lock word on every call either.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use hashbrown::{DefaultHashBuilder, HashTable};
use tracing_core::callsite::Identifier;

use super::labels;
use super::series::Series;
use crate::context::Outcome;
use crate::value::FieldValue;

const SHARDS: usize = 16;

/// What one observation is looked up by, all borrowed from the span record.
#[derive(Clone)]
pub(crate) struct Probe<'a, L> {
    /// The address of the callsite's metadata: picks the thread's slot without hashing.
    pub(crate) site: usize,
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

pub(crate) struct SeriesCache {
    /// Tells caches apart in the per-thread entries (never reused, unlike an address).
    id: u64,
    shards: [RwLock<HashTable<Arc<Entry>>>; SHARDS],
    hasher: DefaultHashBuilder,
}

impl Default for SeriesCache {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        SeriesCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shards: Default::default(),
            hasher: DefaultHashBuilder::default(),
        }
    }
}

/// Entries a thread keeps, direct-mapped by hash.
const THREAD_SLOTS: usize = 16;

/// An entry a thread keeps, with the id of its cache.
type ThreadEntry = Option<(u64, Arc<Entry>)>;

thread_local! {
    /// The entries this thread found last.
    static THREAD_ENTRIES: RefCell<[ThreadEntry; THREAD_SLOTS]> =
        const { RefCell::new([const { None }; THREAD_SLOTS]) };
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

    /// Runs `f` on the cached series, if there is one; otherwise returns the probe's hash
    /// for [`insert`](Self::insert).
    ///
    /// The thread's entries are looked at first, by callsite (and outcome): a hit costs one
    /// comparison, no hash and no shared write.
    pub(crate) fn with_series<'v, L>(
        &self,
        probe: &Probe<'_, L>,
        f: impl FnOnce(&Arc<Series>),
    ) -> Result<(), u64>
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let slot = (probe.site >> 4 ^ probe.site >> 12 ^ probe.outcome as usize) % THREAD_SLOTS;
        let mut f = Some(f);
        // Ok(result): the thread's entries answered; Err: no thread-local storage (a thread
        // being torn down) or re-entered.
        let local = THREAD_ENTRIES
            .try_with(|entries| {
                let mut entries = entries.try_borrow_mut().map_err(|_| ())?;
                let kept = &mut entries[slot];
                let hit = kept
                    .as_ref()
                    .is_some_and(|(id, entry)| *id == self.id && matches(entry, probe));
                if !hit {
                    let hash = self.hash(probe);
                    match self.find(hash, probe) {
                        Some(entry) => *kept = Some((self.id, entry)),
                        None => return Ok(Err(hash)),
                    }
                }
                if let (Some((_, entry)), Some(f)) = (kept.as_ref(), f.take()) {
                    // No clone of the entry on a hit: its count is a word every thread shares.
                    f(&entry.series);
                }
                Ok(Ok(()))
            })
            .map_err(|_| ())
            .and_then(|r| r);
        match local {
            Ok(result) => result,
            Err(()) => {
                let hash = self.hash(probe);
                let entry = self.find(hash, probe).ok_or(hash)?;
                if let Some(f) = f.take() {
                    f(&entry.series);
                }
                Ok(())
            }
        }
    }

    fn find<'v, L>(&self, hash: u64, probe: &Probe<'_, L>) -> Option<Arc<Entry>>
    where
        L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
    {
        let shard = self
            .shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard
            .find(hash, |entry| entry.hash == hash && matches(entry, probe))
            .cloned()
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
            .find(hash, |entry| entry.hash == hash && matches(entry, probe))
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
        shard.insert_unique(hash, Arc::new(entry), |entry| entry.hash);
    }

    fn shard(&self, hash: u64) -> &RwLock<HashTable<Arc<Entry>>> {
        // Middle bits: hashbrown indexes buckets by the low bits and tags by the top seven.
        &self.shards[(hash >> 32) as usize % SHARDS]
    }
}

fn matches<'v, L>(entry: &Entry, probe: &Probe<'_, L>) -> bool
where
    L: Iterator<Item = (&'static str, &'v FieldValue)> + Clone,
{
    if entry.outcome != probe.outcome
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
