//! One exemplar slot: the trace and span of a recent sampled call that fell in a bucket,
//! kept without a lock.
//!
//! A slot is refreshed at most once per [`REFRESH`]: a call first compares its close time
//! with the slot's (one load), so the common case costs that load and nothing else. The
//! refresh itself is a sequence lock: the writer that wins the compare-and-swap to an odd
//! sequence writes the fields and makes it even again; a writer that loses leaves the slot
//! to the winner (any recent call is as good an exemplar); a reader retries while a write
//! is under way and gives up after a few tries rather than wait.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::context::{SpanId, TraceId};

/// How long an exemplar stands before a newer call replaces it.
pub(crate) const REFRESH: Duration = Duration::from_secs(1);

/// An exemplar as the exposition writes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The observed value, in seconds.
    pub(crate) value: f64,
    /// When the call ended (wall clock).
    pub(crate) at: SystemTime,
}

/// The call a recording can offer as an exemplar.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// When the call ended (monotonic).
    pub(crate) ended: Instant,
}

/// The monotonic time slots are stamped against.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// `at` as nanoseconds since [`base`], never 0 (0 marks an empty slot).
#[inline]
fn stamp(at: Instant) -> u64 {
    (at.saturating_duration_since(base()).as_nanos() as u64).max(1)
}

#[derive(Debug, Default)]
pub(crate) struct ExemplarSlot {
    sequence: AtomicU64,
    /// Close time as [`stamp`]; 0 while empty.
    stamp: AtomicU64,
    trace_high: AtomicU64,
    trace_low: AtomicU64,
    span: AtomicU64,
    value: AtomicU64,
    wall_nanos: AtomicU64,
}

impl ExemplarSlot {
    /// Offers `candidate` with `value` seconds; taken when the slot is empty or older than
    /// [`REFRESH`].
    #[inline]
    pub(crate) fn offer(&self, candidate: &Candidate, value: f64) {
        let now = stamp(candidate.ended);
        let kept = self.stamp.load(Ordering::Relaxed);
        if kept != 0 && now.saturating_sub(kept) < REFRESH.as_nanos() as u64 {
            return;
        }
        self.write(candidate, value, now);
    }

    #[cold]
    fn write(&self, candidate: &Candidate, value: f64, now: u64) {
        let sequence = self.sequence.load(Ordering::Relaxed);
        if sequence & 1 == 1
            || self
                .sequence
                .compare_exchange(sequence, sequence + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let trace = candidate.trace_id.as_u128();
        let wall = crate::log::timestamp::wall_time_at(candidate.ended)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.trace_high
            .store((trace >> 64) as u64, Ordering::Relaxed);
        self.trace_low.store(trace as u64, Ordering::Relaxed);
        self.span.store(
            u64::from_be_bytes(candidate.span_id.to_bytes()),
            Ordering::Relaxed,
        );
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.wall_nanos.store(wall, Ordering::Relaxed);
        self.stamp.store(now, Ordering::Relaxed);
        self.sequence.store(sequence + 2, Ordering::Release);
    }

    /// The exemplar, if the slot holds one and no write got in the way.
    pub(crate) fn read(&self) -> Option<Exemplar> {
        for _ in 0..4 {
            let before = self.sequence.load(Ordering::Acquire);
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let stamp = self.stamp.load(Ordering::Relaxed);
            let high = self.trace_high.load(Ordering::Relaxed);
            let low = self.trace_low.load(Ordering::Relaxed);
            let span = self.span.load(Ordering::Relaxed);
            let value = f64::from_bits(self.value.load(Ordering::Relaxed));
            let wall = self.wall_nanos.load(Ordering::Relaxed);
            std::sync::atomic::fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) != before {
                continue;
            }
            if stamp == 0 {
                return None;
            }
            return Some(Exemplar {
                trace_id: TraceId::from_bytes(
                    (u128::from(high) << 64 | u128::from(low)).to_be_bytes(),
                )?,
                span_id: SpanId::from_bytes(span.to_be_bytes())?,
                value,
                at: UNIX_EPOCH + Duration::from_nanos(wall),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(trace: u8, ended: Instant) -> Candidate {
        Candidate {
            trace_id: TraceId::from_bytes([trace; 16]).unwrap(),
            span_id: SpanId::from_bytes([trace; 8]).unwrap(),
            ended,
        }
    }

    #[test]
    fn an_empty_slot_takes_the_first_call_and_keeps_it_for_a_while() {
        let slot = ExemplarSlot::default();
        assert_eq!(slot.read(), None);
        let t0 = Instant::now();
        slot.offer(&candidate(1, t0), 0.25);
        let kept = slot.read().unwrap();
        assert_eq!(kept.trace_id, TraceId::from_bytes([1; 16]).unwrap());
        assert_eq!(kept.span_id, SpanId::from_bytes([1; 8]).unwrap());
        assert_eq!(kept.value, 0.25);
        slot.offer(&candidate(2, t0 + Duration::from_millis(10)), 0.5);
        assert_eq!(slot.read().unwrap().value, 0.25, "too soon to replace");
        slot.offer(&candidate(3, t0 + REFRESH + Duration::from_millis(1)), 0.75);
        assert_eq!(
            slot.read().unwrap().trace_id,
            TraceId::from_bytes([3; 16]).unwrap()
        );
    }

    #[test]
    fn readers_never_see_a_torn_exemplar() {
        let slot = std::sync::Arc::new(ExemplarSlot::default());
        let start = Instant::now();
        std::thread::scope(|scope| {
            for writer in 1..=2u8 {
                let slot = slot.clone();
                scope.spawn(move || {
                    for i in 0..20_000u64 {
                        let at = start + REFRESH * (i as u32 + 1);
                        slot.offer(&candidate(writer, at), f64::from(writer));
                    }
                });
            }
            for _ in 0..20_000 {
                if let Some(e) = slot.read() {
                    let byte = e.trace_id.to_bytes()[0];
                    assert_eq!(e.trace_id.to_bytes(), [byte; 16]);
                    assert_eq!(e.span_id.to_bytes(), [byte; 8]);
                    assert_eq!(e.value, f64::from(byte));
                }
            }
        });
    }
}
