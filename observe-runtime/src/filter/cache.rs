//! Each callsite's filter decisions, kept by the callsite's address.
//!
//! A direct-mapped table of atomic words: one relaxed load and a compare per lookup, no
//! lock and no hashing, on every span and event. A word holds the address (shifted, so it
//! is compared in full: no false hit) and the three decisions; two callsites that map to one
//! word only cost each other a re-decision, which is cheap for `target=level` filters.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::Metadata;

use super::{Decision, Signal};

/// Words in the table: enough for the callsites of a large service to rarely collide.
const SLOTS: usize = 1024;
/// Set in every filled word (an empty word is 0).
const FILLED: u64 = 1 << 7;
/// Bits below the address: the decisions (6), the in-flight marker and [`FILLED`].
const PAYLOAD_BITS: u32 = 8;

/// The three signals' decisions for one callsite, two bits each, and whether the callsite
/// declares the in-flight marker ([`IN_FLIGHT`](crate::fields::IN_FLIGHT)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Decisions(u8);

/// The bit of [`Decisions::tracks_in_flight`], above the decisions'.
const IN_FLIGHT: u8 = 1 << 6;

impl Decisions {
    fn shift(signal: Signal) -> u32 {
        match signal {
            Signal::Logs => 0,
            Signal::Metrics => 2,
            Signal::Traces => 4,
        }
    }

    pub(crate) fn set(&mut self, signal: Signal, decision: Decision) {
        let shift = Self::shift(signal);
        self.0 = (self.0 & !(3 << shift)) | ((decision as u8) << shift);
    }

    #[inline]
    pub(crate) fn get(self, signal: Signal) -> Decision {
        match (self.0 >> Self::shift(signal)) & 3 {
            1 => Decision::Always,
            2 => Decision::Dynamic,
            _ => Decision::Never,
        }
    }

    /// Marks the callsite as keeping an in-flight gauge.
    pub(crate) fn set_in_flight(&mut self) {
        self.0 |= IN_FLIGHT;
    }

    #[inline]
    pub(crate) fn tracks_in_flight(self) -> bool {
        self.0 & IN_FLIGHT != 0
    }

    pub(crate) fn any(self, decision: Decision) -> bool {
        Signal::ALL
            .iter()
            .any(|&signal| self.get(signal) == decision)
    }
}

/// See the module docs.
pub(crate) struct DecisionCache {
    slots: Box<[AtomicU64]>,
}

impl Default for DecisionCache {
    fn default() -> Self {
        DecisionCache {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache").finish_non_exhaustive()
    }
}

/// The callsite's address, and its tag: the address without the alignment bits, which must
/// fit above the payload (it always does for user-space addresses on 64-bit targets).
#[inline]
fn key(metadata: &'static Metadata<'static>) -> (usize, Option<u64>) {
    let addr = std::ptr::from_ref(metadata).addr();
    let tag = (addr as u64) >> 3;
    (addr, (tag >> (64 - PAYLOAD_BITS) == 0).then_some(tag))
}

impl DecisionCache {
    fn slot(&self, addr: usize) -> &AtomicU64 {
        &self.slots[(addr >> 4 ^ addr >> 12) % SLOTS]
    }

    #[inline]
    pub(crate) fn get(&self, metadata: &'static Metadata<'static>) -> Option<Decisions> {
        let (addr, tag) = key(metadata);
        let word = self.slot(addr).load(Ordering::Relaxed);
        (word >> PAYLOAD_BITS == tag? && word & FILLED != 0)
            .then_some(Decisions((word & 0x7f) as u8))
    }

    pub(crate) fn put(&self, metadata: &'static Metadata<'static>, decisions: Decisions) {
        let (addr, Some(tag)) = key(metadata) else {
            return;
        };
        let word = tag << PAYLOAD_BITS | FILLED | u64::from(decisions.0);
        self.slot(addr).store(word, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_pack_and_unpack() {
        let mut d = Decisions::default();
        d.set(Signal::Logs, Decision::Dynamic);
        d.set(Signal::Traces, Decision::Always);
        assert_eq!(d.get(Signal::Logs), Decision::Dynamic);
        assert_eq!(d.get(Signal::Metrics), Decision::Never);
        assert_eq!(d.get(Signal::Traces), Decision::Always);
        d.set(Signal::Logs, Decision::Never);
        assert_eq!(d.get(Signal::Logs), Decision::Never);
        assert!(d.any(Decision::Always) && !d.any(Decision::Dynamic));
    }

    #[test]
    fn a_callsite_reads_back_its_own_decisions() {
        use tracing::callsite::Callsite as _;
        let cache = DecisionCache::default();
        let ma = tracing::callsite!(name: "a", kind: tracing::metadata::Kind::SPAN, fields: [])
            .metadata();
        let mb = tracing::callsite!(name: "b", kind: tracing::metadata::Kind::SPAN, fields: [])
            .metadata();
        assert_eq!(cache.get(ma), None);
        let mut d = Decisions::default();
        d.set(Signal::Metrics, Decision::Always);
        cache.put(ma, d);
        assert_eq!(cache.get(ma), Some(d));
        assert_eq!(cache.get(mb), None);
    }
}
