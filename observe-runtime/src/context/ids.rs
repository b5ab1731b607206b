//! W3C trace and span ids: observe draws its own, so that log lines, propagated
//! `traceparent` headers and exported spans share them whether export is on or off.
//!
//! They come from a per-thread generator: no lock, no syscall.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

/// A W3C trace id: 16 bytes, never all zero once drawn; shown as 32 lowercase hex digits.
///
/// ```
/// use observe_runtime::context::TraceId;
///
/// let id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(TraceId::from_hex("00000000000000000000000000000000").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(u128);

/// A W3C span (parent) id: 8 bytes, never all zero once drawn; shown as 16 lowercase hex
/// digits.
///
/// ```
/// use observe_runtime::context::SpanId;
///
/// let id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
/// assert_eq!(format!("{id}"), "00f067aa0ba902b7");
/// assert_eq!(id.to_bytes(), [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(u64);

impl TraceId {
    /// The id as big-endian bytes, as W3C and OTLP carry it.
    ///
    /// ```
    /// # use observe_runtime::context::TraceId;
    /// let id = TraceId::from_hex("0000000000000000000000000000002a").unwrap();
    /// assert_eq!(id.to_bytes()[15], 42);
    /// ```
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// The id from 32 lowercase hex digits; `None` for anything else and for the invalid
    /// all-zero id.
    ///
    /// ```
    /// # use observe_runtime::context::TraceId;
    /// assert!(TraceId::from_hex("4BF92F3577B34DA6A3CE929D0E0E4736").is_none(), "uppercase");
    /// assert!(TraceId::from_hex("4bf92f35").is_none(), "short");
    /// ```
    pub fn from_hex(hex: &str) -> Option<TraceId> {
        (hex.len() == 32)
            .then(|| lower_hex(hex.as_bytes()))
            .flatten()
            .filter(|&v| v != 0)
            .map(TraceId)
    }

    /// The id from its big-endian bytes; `None` for the invalid all-zero id.
    ///
    /// ```
    /// # use observe_runtime::context::TraceId;
    /// assert!(TraceId::from_bytes([0; 16]).is_none());
    /// assert!(TraceId::from_bytes([1; 16]).is_some());
    /// ```
    pub fn from_bytes(bytes: [u8; 16]) -> Option<TraceId> {
        Some(u128::from_be_bytes(bytes))
            .filter(|&v| v != 0)
            .map(TraceId)
    }

    pub(crate) fn as_u128(self) -> u128 {
        self.0
    }
}

impl SpanId {
    /// The id as big-endian bytes, as W3C and OTLP carry it.
    ///
    /// ```
    /// # use observe_runtime::context::SpanId;
    /// assert_eq!(SpanId::from_hex("000000000000002a").unwrap().to_bytes()[7], 42);
    /// ```
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// The id from 16 lowercase hex digits; `None` for anything else and for the invalid
    /// all-zero id.
    ///
    /// ```
    /// # use observe_runtime::context::SpanId;
    /// assert!(SpanId::from_hex("0000000000000000").is_none());
    /// assert!(SpanId::from_hex("123456789012345").is_none(), "15 digits");
    /// ```
    pub fn from_hex(hex: &str) -> Option<SpanId> {
        (hex.len() == 16)
            .then(|| lower_hex(hex.as_bytes()))
            .flatten()
            .filter(|&v| v != 0)
            .map(|v| SpanId(v as u64))
    }

    /// The id from its big-endian bytes; `None` for the invalid all-zero id.
    ///
    /// ```
    /// # use observe_runtime::context::SpanId;
    /// assert!(SpanId::from_bytes([0; 8]).is_none());
    /// ```
    pub fn from_bytes(bytes: [u8; 8]) -> Option<SpanId> {
        Some(u64::from_be_bytes(bytes))
            .filter(|&v| v != 0)
            .map(SpanId)
    }
}

/// The value of lowercase hex digits (at most 32), `None` if any byte is not one.
fn lower_hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |acc, &b| {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u128::from(nibble))
    })
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

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
/// unique-ish and well spread (the ratio sampler reads their bits), not unpredictable.
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
    TraceId((high | u128::from(next_u64())).max(1))
}

/// A new random span id, never the invalid all-zero one.
pub(crate) fn new_span_id() -> SpanId {
    SpanId(next_u64().max(1))
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
        assert!(traces.iter().all(|t| t.as_u128() != 0));
        assert!(spans.iter().all(|s| s.to_bytes() != [0; 8]));
    }

    #[test]
    fn threads_draw_different_ids() {
        let other = std::thread::spawn(new_trace_id).join().unwrap();
        assert_ne!(other, new_trace_id());
    }

    #[test]
    fn hex_round_trips() {
        for _ in 0..1_000 {
            let (t, s) = (new_trace_id(), new_span_id());
            assert_eq!(TraceId::from_hex(&t.to_string()), Some(t));
            assert_eq!(SpanId::from_hex(&s.to_string()), Some(s));
            assert_eq!(TraceId::from_bytes(t.to_bytes()), Some(t));
            assert_eq!(SpanId::from_bytes(s.to_bytes()), Some(s));
        }
        for bad in [
            "",
            "g0000000000000000000000000000001",
            "+1234567890123456789012345678901",
        ] {
            assert!(TraceId::from_hex(bad).is_none(), "{bad}");
        }
    }
}
