//! [`LineEncoder`]: the field-by-field interface the encoder tests drive, over both
//! formats' [`Format`] primitives. The log layer itself writes its lines through
//! `log/primitives.rs` and [`Format`], monomorphised per format; this trait only exists under
//! `cfg(test)`.
//!
//! A record is written into a caller-owned `Vec<u8>`: `begin`, then one call per field, then
//! `finish`, which appends the newline. Where the current record starts is worked out from
//! the buffer itself (after the last `\n`, or at the start of the buffer), so one buffer may
//! hold several finished records back to back.

use std::fmt;

use super::{Format, write_i64, write_i128, write_key, write_u64, write_u128};
use crate::log::primitives;

/// Writes the fields of one log record, in call order, into a reused byte buffer.
///
/// The sequence for a record is `begin`, any number of field calls, then `finish`. Keys are
/// sanitised with [`write_key`](super::write_key): characters outside `[A-Za-z0-9_.:-]` become
/// `_`, and an empty key becomes `_`. Duplicate keys are written as given; deduplication is
/// the caller's job. The trait is object safe.
pub(crate) trait LineEncoder: Send + Sync {
    /// Starts a record.
    fn begin(&self, out: &mut Vec<u8>);

    /// Writes a text field.
    fn str(&self, out: &mut Vec<u8>, key: &str, value: &str);

    /// Writes a text field whose value the caller knows needs no quoting or escaping in any
    /// format: only `[A-Za-z0-9_.:+-]`, never empty (ids, timestamps, levels). logfmt
    /// copies it as is; the default writes it like [`str`](Self::str).
    fn plain_str(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        self.str(out, key, value);
    }

    /// Writes a field from its `Display` form, formatted straight into the buffer.
    fn display(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Display);

    /// Writes a field from its `Debug` form, formatted straight into the buffer.
    fn debug(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Debug);

    /// Writes a signed integer as a number.
    fn i64(&self, out: &mut Vec<u8>, key: &str, value: i64);

    /// Writes an unsigned integer as a number.
    fn u64(&self, out: &mut Vec<u8>, key: &str, value: u64);

    /// Writes a signed 128-bit integer as a number.
    fn i128(&self, out: &mut Vec<u8>, key: &str, value: i128);

    /// Writes an unsigned 128-bit integer as a number.
    fn u128(&self, out: &mut Vec<u8>, key: &str, value: u128);

    /// Writes a float: finite values as the shortest decimal that reads back to the same
    /// `f64` (with an exponent for very large or small magnitudes, e.g. `1e300`); the
    /// non-finite values as `NaN`, `inf`, `-inf` (bare in logfmt, strings in JSON).
    fn f64(&self, out: &mut Vec<u8>, key: &str, value: f64);

    /// Writes a boolean as `true` or `false`.
    fn bool(&self, out: &mut Vec<u8>, key: &str, value: bool);

    /// Writes a pre-formatted number (such as a latency in milliseconds) as is, unquoted.
    ///
    /// The caller guarantees that `value` is a number in JSON's grammar
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`); it is not checked in release
    /// builds (a `debug_assert!` checks it in debug builds).
    fn raw_number(&self, out: &mut Vec<u8>, key: &str, value: &str);

    /// Ends the record and appends the newline.
    fn finish(&self, out: &mut Vec<u8>);
}

/// Both formats implement the trait through their [`Format`] primitives: the field methods
/// differ only in how a key and a value are written.
impl<F: Format + Send + Sync> LineEncoder for F {
    fn begin(&self, out: &mut Vec<u8>) {
        if F::JSON {
            out.push(b'{');
        }
    }

    #[inline]
    fn str(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        write_field_key::<F>(out, key);
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
        write_field_key::<F>(out, key);
        if F::JSON {
            out.push(b'"');
            out.extend_from_slice(value.as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(value.as_bytes());
        }
    }

    fn display(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Display) {
        write_field_key::<F>(out, key);
        F::display_value(out, value);
    }

    fn debug(&self, out: &mut Vec<u8>, key: &str, value: &dyn fmt::Debug) {
        write_field_key::<F>(out, key);
        F::debug_value(out, value);
    }

    #[inline]
    fn i64(&self, out: &mut Vec<u8>, key: &str, value: i64) {
        write_field_key::<F>(out, key);
        write_i64(out, value);
    }

    #[inline]
    fn u64(&self, out: &mut Vec<u8>, key: &str, value: u64) {
        write_field_key::<F>(out, key);
        write_u64(out, value);
    }

    fn i128(&self, out: &mut Vec<u8>, key: &str, value: i128) {
        write_field_key::<F>(out, key);
        write_i128(out, value);
    }

    fn u128(&self, out: &mut Vec<u8>, key: &str, value: u128) {
        write_field_key::<F>(out, key);
        write_u128(out, value);
    }

    fn f64(&self, out: &mut Vec<u8>, key: &str, value: f64) {
        write_field_key::<F>(out, key);
        F::f64_value(out, value);
    }

    #[inline]
    fn bool(&self, out: &mut Vec<u8>, key: &str, value: bool) {
        write_field_key::<F>(out, key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    #[inline]
    fn raw_number(&self, out: &mut Vec<u8>, key: &str, value: &str) {
        debug_assert!(is_json_number(value), "raw_number({value:?})");
        write_field_key::<F>(out, key);
        out.extend_from_slice(value.as_bytes());
    }

    fn finish(&self, out: &mut Vec<u8>) {
        primitives::finish::<F>(out);
    }
}

/// The separator from the previous field (none at a record's start), the sanitised key and
/// what introduces its value.
fn write_field_key<F: Format>(out: &mut Vec<u8>, key: &str) {
    let open = if F::JSON { b'{' } else { b'\n' };
    if !record_is_empty(out, open) {
        out.push(if F::JSON { b',' } else { b' ' });
    }
    if F::JSON {
        out.push(b'"');
    }
    write_key(out, key);
    out.extend_from_slice(if F::JSON { b"\":" } else { b"=" });
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

/// Whether `s` is a number in JSON's grammar (used by `debug_assert!`s on `raw_number`).
pub(crate) fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::json::JsonEncoder;
    use crate::log::logfmt::LogfmtEncoder;

    fn logfmt(f: impl FnOnce(&LogfmtEncoder, &mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        LogfmtEncoder.begin(&mut out);
        f(&LogfmtEncoder, &mut out);
        out
    }

    fn json(f: impl FnOnce(&JsonEncoder, &mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        JsonEncoder.begin(&mut out);
        f(&JsonEncoder, &mut out);
        out
    }

    #[test]
    fn each_field_method_writes_its_value() {
        let line = logfmt(|enc, out| {
            enc.str(out, "level", "INFO");
            enc.display(out, "msg", &format_args!("saved {} rows", 3));
            enc.u64(out, "rows", 3);
            enc.finish(out);
        });
        assert_eq!(line, b"level=INFO msg=\"saved 3 rows\" rows=3\n");
        assert_eq!(json(|_, _| {}), b"{");
        let fields = logfmt(|enc, out| {
            enc.str(out, "table", "events");
            enc.str(out, "note", "two words");
            enc.plain_str(out, "span", "00f067aa0ba902b7");
            enc.debug(out, "kind", &Some("Song"));
            enc.i64(out, "delta", -7);
            enc.i128(out, "n", i128::MIN);
            enc.u128(out, "m", 1 << 100);
            enc.f64(out, "ratio", 0.25);
            enc.f64(out, "big", 1e300);
            enc.f64(out, "bad", f64::NAN);
            enc.raw_number(out, "latency_ms", "0.412");
        });
        assert_eq!(
            String::from_utf8(fields).unwrap(),
            "table=events note=\"two words\" span=00f067aa0ba902b7 kind=\"Some(\\\"Song\\\")\" \
             delta=-7 n=-170141183460469231731687303715884105728 \
             m=1267650600228229401496703205376 ratio=0.25 big=1e300 bad=NaN latency_ms=0.412"
        );
        let object = json(|enc, out| {
            enc.display(out, "addr", &std::net::Ipv4Addr::LOCALHOST);
            enc.u64(out, "rows", u64::MAX);
            enc.bool(out, "cached", true);
            enc.plain_str(out, "span", "00f067aa0ba902b7");
            enc.finish(out);
        });
        assert_eq!(
            String::from_utf8(object).unwrap(),
            "{\"addr\":\"127.0.0.1\",\"rows\":18446744073709551615,\"cached\":true,\
             \"span\":\"00f067aa0ba902b7\"}\n"
        );
        assert_eq!(json(|enc, out| enc.finish(out)), b"{}\n");
    }

    #[test]
    fn json_number_grammar() {
        for ok in ["0", "-0", "1.5", "10", "1e5", "1E+5", "-2.5e-3", "0.000"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "+1", "NaN", "inf", "1 ", "0x1",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
