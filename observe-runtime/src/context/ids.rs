//! Trace and span ids for spans that OpenTelemetry does not number.
//!
//! With OpenTelemetry off, log lines still need W3C-shaped ids so that lines of one request
//! can be grepped together. They come from a per-thread generator: no lock, no syscall.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};

pub use opentelemetry::{SpanId, TraceId};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A seed unique per thread and per process: `RandomState` is randomly keyed per process
/// and the thread id tells threads apart.
fn seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    std::thread::current().id().hash(&mut hasher);
    hasher.finish()
}

/// splitmix64: tiny, fast, and every output of a full-period sequence; ids need to be
/// unique-ish and well spread, not unpredictable.
fn next_u64() -> u64 {
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A new random trace id, never the invalid all-zero one.
pub(crate) fn new_trace_id() -> TraceId {
    let high = u128::from(next_u64()) << 64;
    let id = high | u128::from(next_u64());
    TraceId::from(id.max(1))
}

/// A new random span id, never the invalid all-zero one.
pub(crate) fn new_span_id() -> SpanId {
    SpanId::from(next_u64().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_valid_and_distinct() {
        let traces: HashSet<_> = (0..10_000).map(|_| new_trace_id()).collect();
        let spans: HashSet<_> = (0..10_000).map(|_| new_span_id()).collect();
        assert_eq!(traces.len(), 10_000);
        assert_eq!(spans.len(), 10_000);
        assert!(!traces.contains(&TraceId::INVALID));
        assert!(!spans.contains(&SpanId::INVALID));
    }

    #[test]
    fn threads_draw_different_ids() {
        let other = std::thread::spawn(new_trace_id).join().unwrap();
        assert_ne!(other, new_trace_id());
    }

    #[test]
    fn trace_ids_render_as_32_lowercase_hex_digits() {
        let text = format!("{:032x}", new_trace_id());
        assert_eq!(text.len(), 32);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
