//! Numbers as text: integers in decimal through one digit loop (also behind the latency, a
//! location's line number and a timestamp's fields), latencies in milliseconds, floats.

use std::time::Duration;

/// An unsigned integer [`decimal`] and [`padded`] take apart digit by digit. Each width keeps
/// its own arithmetic: a `u128` division is a library call where a `u64` or `u32` one is a
/// multiplication.
pub(crate) trait Digits: Copy {
    /// `(self / 10, self % 10)`.
    fn div_rem_10(self) -> (Self, u8);
    fn is_zero(self) -> bool;
}

macro_rules! digits {
    ($($t:ty),*) => {$(
        impl Digits for $t {
            #[inline]
            fn div_rem_10(self) -> (Self, u8) {
                (self / 10, (self % 10) as u8)
            }
            #[inline]
            fn is_zero(self) -> bool {
                self == 0
            }
        }
    )*};
}
digits!(u32, u64, u128);

/// Writes `v` in decimal at the end of `buf` and returns where its digits start. `buf` must
/// hold them: 10 bytes for a `u32`, 20 for a `u64`, 39 for a `u128`.
#[inline]
pub(crate) fn decimal<T: Digits>(buf: &mut [u8], mut v: T) -> usize {
    let mut i = buf.len();
    loop {
        i -= 1;
        let (rest, digit) = v.div_rem_10();
        buf[i] = b'0' + digit;
        v = rest;
        if v.is_zero() {
            return i;
        }
    }
}

/// Writes `v` in decimal into all of `dst`, zero-padded (`v` must have at most `dst.len()`
/// digits).
#[inline]
pub(crate) fn padded<T: Digits>(dst: &mut [u8], mut v: T) {
    for b in dst.iter_mut().rev() {
        let (rest, digit) = v.div_rem_10();
        *b = b'0' + digit;
        v = rest;
    }
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let start = decimal(&mut buf, v);
    out.extend_from_slice(&buf[start..]);
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Appends `v` in decimal.
pub(crate) fn write_u128(out: &mut Vec<u8>, v: u128) {
    if let Ok(small) = u64::try_from(v) {
        return write_u64(out, small);
    }
    let mut buf = [0u8; 39];
    let start = decimal(&mut buf, v);
    out.extend_from_slice(&buf[start..]);
}

/// Appends `v` in decimal.
pub(crate) fn write_i128(out: &mut Vec<u8>, v: i128) {
    if v < 0 {
        out.push(b'-');
    }
    write_u128(out, v.unsigned_abs());
}

/// `d` as decimal milliseconds with exactly three fractional digits, i.e. microsecond
/// precision (`0.412`, `12.000`, `1500.250`), written into the end of `buf`. Sub-microsecond
/// parts are truncated, not rounded.
pub(crate) fn latency_ms_text(d: Duration, buf: &mut [u8; 40]) -> &str {
    let micros = d.as_micros();
    let (int, frac) = (micros / 1000, (micros % 1000) as u32);
    let dot = buf.len() - 4;
    padded(&mut buf[dot + 1..], frac);
    buf[dot] = b'.';
    let start = decimal(&mut buf[..dot], int);
    // Only ASCII digits and a dot were written.
    std::str::from_utf8(&buf[start..]).unwrap_or("0")
}

/// Appends a finite float as the shortest decimal that reads back to the same value, using
/// `Debug` (which switches to an exponent for magnitudes below 1e-5 or from 1e16 up, so
/// `1e300` is not written as 301 digits). Every output is a valid JSON number.
pub(crate) fn write_finite_f64(out: &mut Vec<u8>, v: f64) {
    debug_assert!(v.is_finite());
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v:?}");
}

/// The text of a non-finite float: `NaN`, `inf` or `-inf`.
pub(crate) fn non_finite_str(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::encode::is_json_number;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_digit_loops_match_std_at_every_width() {
        for v in [
            0u32,
            1,
            9,
            10,
            99,
            100,
            65_535,
            999_999_999,
            1_000_000_000,
            u32::MAX,
        ] {
            let mut buf = [0u8; 10];
            let start = decimal(&mut buf, v);
            assert_eq!(&buf[start..], v.to_string().as_bytes());
            let mut wide = [b'x'; 12];
            padded(&mut wide, v);
            assert_eq!(wide, format!("{v:012}").as_bytes());
        }
        // Into the end of a longer buffer, leaving the rest alone.
        let mut buf = [b'x'; 8];
        let start = decimal(&mut buf[..5], 42u64);
        assert_eq!((start, &buf), (3, b"xxx42xxx"));
        let mut buf = [0u8; 39];
        let start = decimal(&mut buf, u128::MAX);
        assert_eq!((start, &buf[..]), (0, u128::MAX.to_string().as_bytes()));
        let mut two = [0u8; 2];
        padded(&mut two, 7u64);
        assert_eq!(&two, b"07");
    }

    #[test]
    fn latency_has_three_fraction_digits() {
        let cases = [
            (Duration::ZERO, "0.000"),
            (Duration::from_nanos(999), "0.000"),
            (Duration::from_micros(1), "0.001"),
            (Duration::from_micros(10), "0.010"),
            (Duration::from_micros(412), "0.412"),
            (Duration::from_millis(12), "12.000"),
            (Duration::from_micros(1_500_250), "1500.250"),
            (Duration::from_secs(86_400), "86400000.000"),
            (Duration::MAX, "18446744073709551615999.999"),
        ];
        for (d, want) in cases {
            assert_eq!(latency_ms_text(d, &mut [0; 40]), want, "{d:?}");
            assert!(is_json_number(want));
        }
    }

    #[test]
    fn integers_match_std() {
        let i64s = [
            0,
            1,
            -1,
            9,
            10,
            -10,
            99,
            100,
            i64::MAX,
            i64::MIN,
            1234567890,
        ];
        for v in i64s {
            assert_eq!(s(|o| write_i64(o, v)), v.to_string());
            assert_eq!(s(|o| write_u64(o, v as u64)), (v as u64).to_string());
            assert_eq!(s(|o| write_i128(o, v as i128)), v.to_string());
        }
        let big = [
            0u128,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
            u128::MAX,
            10u128.pow(38),
        ];
        for v in big {
            assert_eq!(s(|o| write_u128(o, v)), v.to_string());
        }
        for v in [i128::MIN, i128::MAX, -(10i128.pow(30))] {
            assert_eq!(s(|o| write_i128(o, v)), v.to_string());
        }
    }

    #[test]
    fn floats_are_shortest_round_trip_and_json_numbers() {
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e300,
            -1e-300,
            1e-7,
            123456789.125,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        for v in cases {
            let text = s(|o| write_finite_f64(o, v));
            assert!(is_json_number(&text), "{text}");
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                v.to_bits(),
                "{text}"
            );
        }
        assert_eq!(non_finite_str(f64::NAN), "NaN");
        assert_eq!(non_finite_str(f64::INFINITY), "inf");
        assert_eq!(non_finite_str(f64::NEG_INFINITY), "-inf");
    }
}
