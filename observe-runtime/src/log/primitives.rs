//! The byte-level pieces every line is made of: keys, plain and escaped values, hex ids,
//! the level, timestamps and locations, each written straight into the line buffer in the
//! line's format.

use tracing_core::Level;

use super::encode::{
    Format, decimal, is_plain_static_key, is_plain_static_value, write_i64, write_i128, write_key,
    write_u64, write_u128,
};
use super::timestamp::rfc3339_micros;
use crate::context::SpanField;
use crate::value::FieldValue;

/// Writes a key known at compile time (`[A-Za-z0-9_]` only, never first on the line), with
/// its separator: one constant copy.
macro_rules! lit_key {
    ($f:ty, $out:expr, $key:literal) => {
        $out.extend_from_slice(if <$f>::JSON {
            concat!(",\"", $key, "\":").as_bytes()
        } else {
            concat!(" ", $key, "=").as_bytes()
        })
    };
}
pub(crate) use lit_key;

/// Starts the line with its first key, `level`.
#[inline]
pub(crate) fn level_first<F: Format>(out: &mut Vec<u8>, level: &Level) {
    macro_rules! level {
        ($name:literal) => {
            if F::JSON {
                concat!("{\"level\":\"", $name, "\"").as_bytes()
            } else {
                concat!("level=", $name).as_bytes()
            }
        };
    }
    out.extend_from_slice(match *level {
        Level::ERROR => level!("error"),
        Level::WARN => level!("warn"),
        Level::INFO => level!("info"),
        Level::DEBUG => level!("debug"),
        Level::TRACE => level!("trace"),
    });
}

#[inline]
pub(crate) fn finish<F: Format>(out: &mut Vec<u8>) {
    if F::JSON {
        out.extend_from_slice(b"}\n");
    } else {
        out.push(b'\n');
    }
}

/// A field name (or another `'static` key) with its separator, sanitised as
/// [`write_key`](super::encode::write_key) does; the check is cached per name.
#[inline]
pub(crate) fn static_key<F: Format>(out: &mut Vec<u8>, key: &'static str) {
    out.extend_from_slice(if F::JSON { b",\"" } else { b" " });
    if is_plain_static_key(key) {
        out.extend_from_slice(key.as_bytes());
    } else {
        write_key(out, key);
    }
    out.extend_from_slice(if F::JSON { b"\":" } else { b"=" });
}

/// A value that needs no quoting or escaping (ids, timestamps, keywords).
#[inline]
pub(crate) fn plain_value<F: Format>(out: &mut Vec<u8>, value: &[u8]) {
    if F::JSON {
        out.push(b'"');
        out.extend_from_slice(value);
        out.push(b'"');
    } else {
        out.extend_from_slice(value);
    }
}

/// A `'static` text value (span name, target); whether it needs quoting is cached.
#[inline]
pub(crate) fn static_str_value<F: Format>(out: &mut Vec<u8>, value: &'static str) {
    if is_plain_static_value(value) {
        plain_value::<F>(out, value.as_bytes());
    } else {
        F::str_value(out, value);
    }
}

/// Lowercase hex of an id (8 or 16 bytes), fixed width, as a value of the line's format.
#[inline]
pub(crate) fn hex_value<F: Format, const N: usize>(out: &mut Vec<u8>, bytes: [u8; N]) {
    if F::JSON {
        out.push(b'"');
        hex_raw(out, bytes);
        out.push(b'"');
    } else {
        hex_raw(out, bytes);
    }
}

/// Lowercase hex of an id (8 or 16 bytes), fixed width, unquoted.
#[inline]
pub(crate) fn hex_raw<const N: usize>(out: &mut Vec<u8>, bytes: [u8; N]) {
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        out.extend_from_slice(&hex8(word));
    }
}

/// Eight bytes as sixteen lowercase hex digits, without a loop or a table: the nibbles are
/// spread one per byte of a `u128`, then turned into ASCII all at once.
#[inline]
pub(crate) fn hex8(bytes: [u8; 8]) -> [u8; 16] {
    /// Moves byte `i` of `x` to byte `2 i` of the result.
    #[inline]
    fn spread(x: u64) -> u128 {
        let mut x = u128::from(x);
        x = (x | x << 32) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
        x = (x | x << 16) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
        x = (x | x << 8) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
        x
    }
    const LOW_NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const ONES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
    let x = u64::from_le_bytes(bytes);
    // Byte 2i: high nibble of bytes[i]; byte 2i+1: its low nibble.
    let nibbles = spread((x >> 4) & LOW_NIBBLES) | spread(x & LOW_NIBBLES) << 8;
    // 1 in each byte whose nibble is 10 or more (nibble + 6 carries into bit 4).
    let letters = ((nibbles + 6 * ONES) >> 4) & ONES;
    (nibbles + u128::from(b'0') * ONES + letters * u128::from(b'a' - b'0' - 10)).to_le_bytes()
}

pub(crate) fn timestamp_value<F: Format>(out: &mut Vec<u8>) {
    // Digits, '-', ':', 'T', '.' and 'Z' only.
    plain_value::<F>(out, &rfc3339_micros(std::time::SystemTime::now()));
}

/// `location=file:line`; the file's need for quoting is cached per path.
pub(crate) fn location<F: Format>(out: &mut Vec<u8>, file: &'static str, line: u32) {
    let mut digits_buf = [0u8; 10];
    let i = decimal(&mut digits_buf, line);
    lit_key!(F, out, "location");
    if is_plain_static_value(file) {
        if F::JSON {
            out.push(b'"');
        }
        out.extend_from_slice(file.as_bytes());
        out.push(b':');
        out.extend_from_slice(&digits_buf[i..]);
        if F::JSON {
            out.push(b'"');
        }
    } else {
        F::display_value(out, &format_args!("{file}:{line}"));
    }
}

#[inline]
pub(crate) fn write_field<F: Format>(out: &mut Vec<u8>, field: &SpanField) {
    static_key::<F>(out, field.name);
    write_value::<F>(out, &field.value);
}

#[inline]
pub(crate) fn write_value<F: Format>(out: &mut Vec<u8>, value: &FieldValue) {
    match value {
        FieldValue::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        FieldValue::I64(v) => write_i64(out, *v),
        FieldValue::U64(v) => write_u64(out, *v),
        FieldValue::I128(v) => write_i128(out, *v),
        FieldValue::U128(v) => write_u128(out, *v),
        FieldValue::F64(v) => F::f64_value(out, *v),
        FieldValue::Str(v) => F::str_value(out, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::json::JsonEncoder;
    use crate::log::logfmt::LogfmtEncoder;

    #[test]
    fn hex8_matches_fmt() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for v in [
                x,
                0,
                u64::MAX,
                x & 0x0a0a_0a0a_0a0a_0a0a,
                x | 0x9999_9999_9999_9999,
            ] {
                let text = hex8(v.to_be_bytes());
                assert_eq!(std::str::from_utf8(&text).unwrap(), format!("{v:016x}"));
            }
        }
    }

    #[test]
    fn hex_is_lowercase_fixed_width() {
        let mut out = Vec::new();
        hex_value::<LogfmtEncoder, 8>(&mut out, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert_eq!(out, b"00f067aa0ba902b7");
        let id = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128;
        out.clear();
        hex_value::<JsonEncoder, 16>(&mut out, id.to_be_bytes());
        assert_eq!(out, format!("\"{id:032x}\"").as_bytes());
    }

    #[test]
    fn static_keys_and_values_are_checked_once_and_stay_right() {
        for _ in 0..2 {
            let mut out = Vec::new();
            static_key::<LogfmtEncoder>(&mut out, "a b");
            static_str_value::<LogfmtEncoder>(&mut out, "x y");
            static_key::<LogfmtEncoder>(&mut out, "ok.key");
            static_str_value::<LogfmtEncoder>(&mut out, "plain");
            static_key::<JsonEncoder>(&mut out, "q");
            static_str_value::<JsonEncoder>(&mut out, "say \"hi\"");
            assert_eq!(out, b" a_b=\"x y\" ok.key=plain,\"q\":\"say \\\"hi\\\"\"");
        }
    }
}
