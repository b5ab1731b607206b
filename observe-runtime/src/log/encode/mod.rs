//! The [`LineEncoder`] trait that the log layer drives, and the helpers both encoders share.
//!
//! An encoder writes one record at a time into a caller-owned `Vec<u8>` that the layer reuses
//! from line to line: `begin`, then one call per field in the order the keys must appear, then
//! `finish`, which appends the newline. Encoders are stateless (`&self`), never allocate per
//! field, and format `Display`/`Debug` values straight into the buffer through an escaping
//! [`fmt::Write`] adapter; the only allocation is the buffer growing, which stops once it has
//! held the longest line.
//!
//! Both encoders work out where the current record starts from the buffer itself (the record
//! starts after the last `\n`, or at the start of the buffer), so one buffer may hold several
//! finished records back to back.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) mod escape;
mod numbers;

pub use numbers::write_latency_ms;
pub(crate) use numbers::{
    decimal, is_json_number, latency_ms_text, non_finite_str, padded, write_finite_f64, write_i64,
    write_i128, write_u64, write_u128,
};

/// Writes the fields of one log record, in call order, into a reused byte buffer.
///
/// The sequence for a record is `begin`, any number of field calls, then `finish`. Keys are
/// sanitised with [`write_key`]: characters outside `[A-Za-z0-9_.:-]` become `_`, and an empty
/// key becomes `_`. Duplicate keys are written as given; deduplication is the caller's job.
///
/// Implementations: [`LogfmtEncoder`](super::logfmt::LogfmtEncoder) (the default format) and
/// [`JsonEncoder`](super::json::JsonEncoder). The trait is object safe.
///
/// ```
/// use observe_runtime::log::encode::LineEncoder;
/// use observe_runtime::log::logfmt::LogfmtEncoder;
///
/// let enc = LogfmtEncoder::new();
/// let mut out = Vec::new();
/// enc.begin(&mut out);
/// enc.str(&mut out, "level", "INFO");
/// enc.display(&mut out, "msg", &format_args!("saved {} rows", 3));
/// enc.u64(&mut out, "rows", 3);
/// enc.finish(&mut out);
/// assert_eq!(out, b"level=INFO msg=\"saved 3 rows\" rows=3\n");
/// ```
pub trait LineEncoder: Send + Sync {
    /// Starts a record.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::json::JsonEncoder;
    ///
    /// let mut out = Vec::new();
    /// JsonEncoder::new().begin(&mut out);
    /// assert_eq!(out, b"{");
    /// ```
    fn begin(&self, out: &mut Vec<u8>);

    /// Writes a text field.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.str(&mut out, "table", "events");
    /// enc.str(&mut out, "note", "two words");
    /// assert_eq!(out, b"table=events note=\"two words\"");
    /// ```
    fn str(&self, out: &mut Vec<u8>, key: &str, value: &str);

    /// Writes a text field whose value the caller knows needs no quoting or escaping in any
    /// format: only `[A-Za-z0-9_.:+-]`, never empty (ids, timestamps, levels). logfmt
    /// copies it as is; the default writes it like [`str`](Self::str).
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.plain_str(&mut out, "span", "00f067aa0ba902b7");
    /// assert_eq!(out, b"span=00f067aa0ba902b7");
    /// ```
    fn plain_str(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        self.str(out, key, value);
    }

    /// Writes a field from its `Display` form, formatted straight into the buffer.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::json::JsonEncoder;
    ///
    /// let (enc, mut out) = (JsonEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.display(&mut out, "addr", &std::net::Ipv4Addr::LOCALHOST);
    /// enc.finish(&mut out);
    /// assert_eq!(out, b"{\"addr\":\"127.0.0.1\"}\n");
    /// ```
    fn display(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Display);

    /// Writes a field from its `Debug` form, formatted straight into the buffer.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.debug(&mut out, "kind", &Some("Song"));
    /// assert_eq!(out, br#"kind="Some(\"Song\")""#);
    /// ```
    fn debug(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Debug);

    /// Writes a signed integer as a number.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.i64(&mut out, "delta", -7);
    /// assert_eq!(out, b"delta=-7");
    /// ```
    fn i64(&self, out: &mut Vec<u8>, key: &str, value: i64);

    /// Writes an unsigned integer as a number.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::json::JsonEncoder;
    ///
    /// let (enc, mut out) = (JsonEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.u64(&mut out, "rows", u64::MAX);
    /// assert_eq!(out, b"{\"rows\":18446744073709551615");
    /// ```
    fn u64(&self, out: &mut Vec<u8>, key: &str, value: u64);

    /// Writes a signed 128-bit integer as a number.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.i128(&mut out, "n", i128::MIN);
    /// assert_eq!(out, b"n=-170141183460469231731687303715884105728");
    /// ```
    fn i128(&self, out: &mut Vec<u8>, key: &str, value: i128);

    /// Writes an unsigned 128-bit integer as a number.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.u128(&mut out, "n", 1 << 100);
    /// assert_eq!(out, b"n=1267650600228229401496703205376");
    /// ```
    fn u128(&self, out: &mut Vec<u8>, key: &str, value: u128);

    /// Writes a float: finite values as the shortest decimal that reads back to the same
    /// `f64` (with an exponent for very large or small magnitudes, e.g. `1e300`); the
    /// non-finite values as `NaN`, `inf`, `-inf` (bare in logfmt, strings in JSON).
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    ///
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.f64(&mut out, "ratio", 0.25);
    /// enc.f64(&mut out, "big", 1e300);
    /// enc.f64(&mut out, "bad", f64::NAN);
    /// assert_eq!(out, b"ratio=0.25 big=1e300 bad=NaN");
    /// ```
    fn f64(&self, out: &mut Vec<u8>, key: &str, value: f64);

    /// Writes a boolean as `true` or `false`.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::json::JsonEncoder;
    ///
    /// let (enc, mut out) = (JsonEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.bool(&mut out, "cached", true);
    /// assert_eq!(out, b"{\"cached\":true");
    /// ```
    fn bool(&self, out: &mut Vec<u8>, key: &str, value: bool);

    /// Writes a pre-formatted number (such as [`write_latency_ms`]'s output) as is, unquoted.
    ///
    /// The caller guarantees that `value` is a number in JSON's grammar
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`); it is not checked in release
    /// builds (a `debug_assert!` checks it in debug builds).
    ///
    /// ```
    /// use observe_runtime::log::encode::{write_latency_ms, LineEncoder};
    /// use observe_runtime::log::logfmt::LogfmtEncoder;
    /// use std::time::Duration;
    ///
    /// let mut num = Vec::new();
    /// write_latency_ms(&mut num, Duration::from_micros(412));
    /// let (enc, mut out) = (LogfmtEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.raw_number(&mut out, "latency_ms", std::str::from_utf8(&num).unwrap());
    /// assert_eq!(out, b"latency_ms=0.412");
    /// ```
    fn raw_number(&self, out: &mut Vec<u8>, key: &str, value: &str);

    /// Ends the record and appends the newline.
    ///
    /// ```
    /// use observe_runtime::log::encode::LineEncoder;
    /// use observe_runtime::log::json::JsonEncoder;
    ///
    /// let (enc, mut out) = (JsonEncoder::new(), Vec::new());
    /// enc.begin(&mut out);
    /// enc.finish(&mut out);
    /// assert_eq!(out, b"{}\n");
    /// ```
    fn finish(&self, out: &mut Vec<u8>);
}

/// Crate-internal: what the log layer needs of a format beyond [`LineEncoder`], so that its
/// line builders can be monomorphised per format (no dynamic call per field, literal keys
/// written as constants).
pub(crate) trait Format {
    /// JSON (`{"key":value,...}`) rather than logfmt (`key=value ...`).
    const JSON: bool;
    /// Opens a record.
    fn begin(out: &mut Vec<u8>);
    /// The separator from the previous field (none at a record's start), the sanitised key
    /// and what introduces its value.
    fn key(out: &mut Vec<u8>, key: &str);
    /// Closes a record and appends the newline.
    fn finish(out: &mut Vec<u8>);
    /// A text value, quoted and escaped as the format needs.
    fn str_value(out: &mut Vec<u8>, value: &str);
    /// A `Display` value, formatted straight into the line.
    fn display_value(out: &mut Vec<u8>, value: &dyn fmt::Display);
    /// A `Debug` value, formatted straight into the line.
    fn debug_value(out: &mut Vec<u8>, value: &dyn fmt::Debug);
    /// A float: a number, or `NaN`/`inf`/`-inf` as the format writes them.
    fn f64_value(out: &mut Vec<u8>, value: f64);
}

/// Both formats implement the public trait through their `Format` primitives: the field
/// methods differ only in how a key and a value are written.
impl<F: Format + Send + Sync> LineEncoder for F {
    #[inline]
    fn begin(&self, out: &mut Vec<u8>) {
        F::begin(out);
    }

    #[inline]
    fn str(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        F::key(out, key);
        F::str_value(out, value);
    }

    #[inline]
    fn plain_str(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        debug_assert!(
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.:+-".contains(&b)),
            "plain_str({value:?})"
        );
        F::key(out, key);
        if F::JSON {
            out.push(b'"');
            out.extend_from_slice(value.as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(value.as_bytes());
        }
    }

    fn display(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Display) {
        F::key(out, key);
        F::display_value(out, value);
    }

    fn debug(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Debug) {
        F::key(out, key);
        F::debug_value(out, value);
    }

    #[inline]
    fn i64(&self, out: &mut Vec<u8>, key: &str, value: i64) {
        F::key(out, key);
        write_i64(out, value);
    }

    #[inline]
    fn u64(&self, out: &mut Vec<u8>, key: &str, value: u64) {
        F::key(out, key);
        write_u64(out, value);
    }

    fn i128(&self, out: &mut Vec<u8>, key: &str, value: i128) {
        F::key(out, key);
        write_i128(out, value);
    }

    fn u128(&self, out: &mut Vec<u8>, key: &str, value: u128) {
        F::key(out, key);
        write_u128(out, value);
    }

    fn f64(&self, out: &mut Vec<u8>, key: &str, value: f64) {
        F::key(out, key);
        F::f64_value(out, value);
    }

    #[inline]
    fn bool(&self, out: &mut Vec<u8>, key: &str, value: bool) {
        F::key(out, key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    #[inline]
    fn raw_number(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        debug_assert!(is_json_number(value), "raw_number({value:?})");
        F::key(out, key);
        out.extend_from_slice(value.as_bytes());
    }

    #[inline]
    fn finish(&self, out: &mut Vec<u8>) {
        F::finish(out);
    }
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
///
/// ```
/// use observe_runtime::log::encode::write_key;
///
/// let mut out = Vec::new();
/// write_key(&mut out, "http.route");
/// out.push(b' ');
/// write_key(&mut out, "a b=\"é\"");
/// out.push(b' ');
/// write_key(&mut out, "");
/// assert_eq!(out, b"http.route a_b____ _");
/// ```
#[inline]
pub fn write_key(out: &mut Vec<u8>, key: &str) {
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

/// Whether no field has been written yet in the record being written into `out`: the buffer
/// is empty, ends a previous record (`\n`) or ends with the record's opening byte `open`.
#[inline]
pub(crate) fn record_is_empty(out: &[u8], open: u8) -> bool {
    match out.last() {
        None => true,
        Some(&b) => b == b'\n' || b == open,
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
    }
}
