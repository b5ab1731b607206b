//! The [`Format`] trait the line builders are generic over, and what both formats share:
//! keys ([`write_key`] and the checks of `'static` keys and values, cached per address),
//! numbers (`numbers.rs`) and escaping (`escape.rs`).
//!
//! Formats are stateless, never allocate per field, and format `Display`/`Debug` values
//! straight into the line buffer through an escaping [`fmt::Write`] adapter; the only
//! allocation is the buffer growing, which stops once it has held the longest line.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) mod escape;
#[cfg(test)]
mod line_encoder;
mod numbers;

#[cfg(test)]
pub(crate) use line_encoder::{LineEncoder, is_json_number};
pub(crate) use numbers::{
    decimal, latency_ms_text, non_finite_str, padded, write_finite_f64, write_i64, write_i128,
    write_u64, write_u128,
};

/// What the line builders need of a format. They are generic over it, so that they are
/// monomorphised per format: no dynamic call per field, literal keys written as constants.
/// Implemented by [`LogfmtEncoder`](super::logfmt::LogfmtEncoder) (the default format) and
/// [`JsonEncoder`](super::json::JsonEncoder).
pub(crate) trait Format {
    /// JSON (`{"key":value,...}`) rather than logfmt (`key=value ...`).
    const JSON: bool;
    /// A text value, quoted and escaped as the format needs.
    fn str_value(out: &mut Vec<u8>, value: &str);
    /// A `Display` value, formatted straight into the line.
    fn display_value(out: &mut Vec<u8>, value: &dyn fmt::Display);
    /// A `Debug` value, formatted straight into the line.
    fn debug_value(out: &mut Vec<u8>, value: &dyn fmt::Debug);
    /// A float: a number, or `NaN`/`inf`/`-inf` as the format writes them.
    fn f64_value(out: &mut Vec<u8>, value: f64);
}

/// A direct-mapped cache of `&'static str`s known to have a property, keyed by address and
/// length. A `'static` string's bytes never change, so (address, length) identifies its
/// text: a hit is as good as checking the bytes again. Entries only ever hold strings that
/// have the property (a miss just checks the bytes); a racing overwrite loses a hint, never
/// correctness.
pub(crate) struct StaticStrCache([AtomicU64; STATIC_CACHE_SLOTS]);

const STATIC_CACHE_SLOTS: usize = 1024;

impl StaticStrCache {
    pub(crate) const fn new() -> Self {
        StaticStrCache([const { AtomicU64::new(0) }; STATIC_CACHE_SLOTS])
    }

    /// `(slot, tag)` for `s`, `None` when it cannot be cached (too long or an address
    /// above 2^48).
    #[inline]
    fn slot(s: &'static str) -> Option<(usize, u64)> {
        let addr = s.as_ptr() as u64;
        let len = s.len() as u64;
        if len == 0 || len >= 1 << 16 || addr >= 1 << 48 {
            return None;
        }
        let slot = ((addr >> 3) ^ (addr >> 13) ^ len.wrapping_mul(0x9e37)) as usize;
        Some((slot % STATIC_CACHE_SLOTS, (addr << 16) | len))
    }

    /// Whether `s` has the property `check` decides, consulting and filling the cache.
    #[inline]
    pub(crate) fn check(&self, s: &'static str, check: impl FnOnce(&str) -> bool) -> bool {
        let Some((slot, tag)) = Self::slot(s) else {
            return check(s);
        };
        let entry = &self.0[slot];
        if entry.load(Ordering::Relaxed) == tag {
            return true;
        }
        let has = check(s);
        if has {
            entry.store(tag, Ordering::Relaxed);
        }
        has
    }
}

/// `&'static str` keys (field names, metadata) already known to need no sanitising.
static PLAIN_KEYS: StaticStrCache = StaticStrCache::new();

/// Whether the `'static` key `key` is written as is by [`write_key`] (non-empty, only
/// `[A-Za-z0-9_.:-]`); cached by address, so a field name is checked once per process.
#[inline]
pub(crate) fn is_plain_static_key(key: &'static str) -> bool {
    PLAIN_KEYS.check(key, |k| !k.is_empty() && k.bytes().all(is_key_byte))
}

/// `&'static str` values (span names, targets, file paths) known to need no quoting or
/// escaping in any format.
static PLAIN_VALUES: StaticStrCache = StaticStrCache::new();

/// Whether the `'static` text `value` is written as is in logfmt (and needs no escape in a
/// JSON string): non-empty printable ASCII without space, `=`, `"` or `\`. Cached by
/// address.
#[inline]
pub(crate) fn is_plain_static_value(value: &'static str) -> bool {
    PLAIN_VALUES.check(value, |v| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b > b' ' && b < 0x7f && !matches!(b, b'"' | b'\\' | b'='))
    })
}

/// Whether `b` may appear in a key as is: `[A-Za-z0-9_.:-]`.
#[inline]
const fn is_key_byte(b: u8) -> bool {
    KEY_BYTE[b as usize]
}

/// [`is_key_byte`] as a table: keys are checked on every field of every line.
static KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'-');
        b += 1;
    }
    t
};

/// Appends `key` sanitised to `[A-Za-z0-9_.:-]`: every other character (a whole `char`, not
/// each of its UTF-8 bytes) becomes `_`, and an empty key becomes `_`. The result never needs
/// quoting or escaping in logfmt or JSON.
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    if key.is_empty() {
        out.push(b'_');
    } else if key.bytes().all(is_key_byte) {
        out.extend_from_slice(key.as_bytes());
    } else {
        out.extend(key.chars().map(|c| {
            if c.is_ascii() && is_key_byte(c as u8) {
                c as u8
            } else {
                b'_'
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn keys_are_sanitised_per_char() {
        assert_eq!(s(|o| write_key(o, "")), "_");
        assert_eq!(s(|o| write_key(o, "a-Z_0.9:x")), "a-Z_0.9:x");
        assert_eq!(s(|o| write_key(o, "a b")), "a_b");
        assert_eq!(s(|o| write_key(o, "k=v")), "k_v");
        assert_eq!(s(|o| write_key(o, "é")), "_");
        assert_eq!(s(|o| write_key(o, "日本\n\"")), "____");
        for b in 0u8..=127 {
            let k = (b as char).to_string();
            let got = s(|o| write_key(o, &k));
            let want = if b.is_ascii_alphanumeric() || b"_.:-".contains(&b) {
                k.clone()
            } else {
                "_".to_string()
            };
            assert_eq!(got, want, "byte {b:#x}");
        }
        let mut out = Vec::new();
        write_key(&mut out, "http.route");
        out.push(b' ');
        write_key(&mut out, "a b=\"é\"");
        out.push(b' ');
        write_key(&mut out, "");
        assert_eq!(out, b"http.route a_b____ _");
    }
}
