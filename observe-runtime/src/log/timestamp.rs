//! RFC 3339 timestamps for log lines, without a date-time dependency.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::encode::padded;

/// Seconds from 1970-01-01T00:00:00Z to 0000-01-01T00:00:00Z (negative).
const MIN_SECS: i64 = -62_167_219_200;
/// Seconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MAX_SECS: i64 = 253_402_300_799;

/// `t` as an RFC 3339 UTC timestamp with exactly six fractional digits, on the stack:
/// `2026-11-24T15:08:01.123456Z`.
///
/// Sub-microsecond parts are truncated toward the past (floored), also before 1970, so
/// `UNIX_EPOCH - 1ns` is `1969-12-31T23:59:59.999999Z`. Times before year 0000 or after
/// 9999 cannot be written with RFC 3339's four-digit year and are clamped to
/// `0000-01-01T00:00:00.000000Z` and `9999-12-31T23:59:59.999999Z`. No allocation: the
/// date comes from Howard Hinnant's `civil_from_days`, and the text of the last second
/// written is cached per thread.
pub(crate) fn rfc3339_micros(t: SystemTime) -> [u8; 27] {
    // Whole seconds and microseconds, floored, in i64/u32 (no 128-bit division).
    let (secs, frac) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => match i64::try_from(d.as_secs()) {
            Ok(s) if s <= MAX_SECS => (s, d.subsec_micros()),
            _ => (MAX_SECS, 999_999),
        },
        Err(e) => {
            // t = -(s + n/1e9) = (-s - 1) + (1e9 - n)/1e9 when n > 0.
            let d = e.duration();
            let (s, n) = (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            );
            let (secs, frac) = if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, (1_000_000_000 - n) / 1000)
            };
            if secs < MIN_SECS {
                (MIN_SECS, 0)
            } else {
                (secs, frac)
            }
        }
    };
    // Lines come many per second: the date and time of day are cached per thread for the
    // last second seen, so usually only the six fractional digits are formatted.
    let prefix = LAST_SECOND.with(|cache| {
        let (cached_secs, cached) = cache.get();
        if cached_secs == secs {
            cached
        } else {
            let fresh = format_second(secs);
            cache.set((secs, fresh));
            fresh
        }
    });
    let mut buf = [0u8; 27];
    buf[..20].copy_from_slice(&prefix);
    padded(&mut buf[20..26], frac);
    buf[26] = b'Z';
    buf
}

/// How long a thread trusts its pairing of the monotonic and the wall clock in
/// [`wall_time_at`] before reading both again. Between readings, the wall time of an instant
/// is the paired wall time plus the monotonic time since: off by the wall clock's slew over
/// this period (NTP slews at most 500 ppm: 25 µs) and blind to a step of the wall clock for
/// at most this long.
const CLOCK_PAIRING: Duration = Duration::from_millis(50);

/// The wall-clock time of `at`, from a per-thread pairing of the two clocks (see
/// [`CLOCK_PAIRING`]): span lines already hold the monotonic instants they are about (the
/// span's start, and its start plus its latency), so they need no clock read of their own.
pub(crate) fn wall_time_at(at: Instant) -> SystemTime {
    PAIRING.with(|pairing| {
        if let Some((mono, wall)) = pairing.get() {
            match at.checked_duration_since(mono) {
                Some(ahead) if ahead < CLOCK_PAIRING => return wall + ahead,
                Some(_) => {}
                None => return wall - (mono - at),
            }
        }
        let (mono, wall) = (Instant::now(), SystemTime::now());
        pairing.set(Some((mono, wall)));
        match at.checked_duration_since(mono) {
            Some(ahead) => wall + ahead,
            None => wall - (mono - at),
        }
    })
}

thread_local! {
    /// A reading of the monotonic and the wall clock, taken together.
    static PAIRING: std::cell::Cell<Option<(Instant, SystemTime)>> =
        const { std::cell::Cell::new(None) };

    /// The last second formatted on this thread and its `YYYY-MM-DDTHH:MM:SS.` text
    /// (`i64::MIN` is never a clamped second, so the initial value never matches).
    static LAST_SECOND: std::cell::Cell<(i64, [u8; 20])> =
        const { std::cell::Cell::new((i64::MIN, [0; 20])) };
}

/// `YYYY-MM-DDTHH:MM:SS.` for `secs` since the epoch, in `MIN_SECS..=MAX_SECS`.
fn format_second(secs: i64) -> [u8; 20] {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mut buf = *b"0000-00-00T00:00:00.";
    padded(&mut buf[0..4], y as u32); // 0..=9999 after the clamp
    padded(&mut buf[5..7], m);
    padded(&mut buf[8..10], d);
    padded(&mut buf[11..13], hh);
    padded(&mut buf[14..16], mm);
    padded(&mut buf[17..19], ss);
    buf
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day) in the
/// proleptic Gregorian calendar. <https://howardhinnant.github.io/date_algorithms.html>
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a line holds for `t`.
    fn write_rfc3339_micros(out: &mut Vec<u8>, t: SystemTime) {
        out.extend_from_slice(&rfc3339_micros(t));
    }

    #[test]
    fn wall_time_of_an_instant_is_close_to_the_wall_clock() {
        for _ in 0..3 {
            let before = SystemTime::now();
            let now = Instant::now();
            let derived = wall_time_at(now);
            let after = SystemTime::now();
            let slack = Duration::from_millis(5);
            assert!(derived + slack >= before && derived <= after + slack);
            // An instant in the past maps to the past by as much.
            let earlier = wall_time_at(now - Duration::from_secs(2));
            let gap = derived.duration_since(earlier).unwrap();
            assert!(gap.abs_diff(Duration::from_secs(2)) < Duration::from_millis(1));
            std::thread::sleep(CLOCK_PAIRING);
        }
    }

    fn at(secs: i64, micros: u32) -> String {
        let base = if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        };
        let t = base + Duration::from_micros(micros.into());
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    fn leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    fn month_days(y: i64, m: u32) -> u32 {
        match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// Days since the epoch by counting, the slow obvious way.
    fn days_from_civil_slow(y: i64, m: u32, d: u32) -> i64 {
        let year_days = |y: i64| if leap(y) { 366 } else { 365 };
        let mut days: i64 = if y >= 1970 {
            (1970..y).map(year_days).sum()
        } else {
            -(y..1970).map(year_days).sum::<i64>()
        };
        days += (1..m).map(|mm| i64::from(month_days(y, mm))).sum::<i64>();
        days + i64::from(d) - 1
    }

    #[test]
    fn known_instants() {
        // Values checked against `date -u -d @SECS +%FT%TZ`.
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (0, 1, "1970-01-01T00:00:00.000001Z"),
            (86_399, 999_999, "1970-01-01T23:59:59.999999Z"),
            (946_684_800, 0, "2000-01-01T00:00:00.000000Z"),
            (951_782_400, 0, "2000-02-29T00:00:00.000000Z"), // 2000 is a leap year
            (951_868_800, 0, "2000-03-01T00:00:00.000000Z"),
            (1_078_012_800, 0, "2004-02-29T00:00:00.000000Z"),
            (4_107_456_000, 0, "2100-02-28T00:00:00.000000Z"), // 2100 is not a leap year
            (4_107_542_400, 0, "2100-03-01T00:00:00.000000Z"),
            (1_709_164_800, 0, "2024-02-29T00:00:00.000000Z"),
            (1_795_532_881, 123_456, "2026-11-24T15:08:01.123456Z"),
            (1_798_761_599, 500_000, "2026-12-31T23:59:59.500000Z"),
            (2_147_483_647, 0, "2038-01-19T03:14:07.000000Z"),
            (253_402_300_799, 999_999, "9999-12-31T23:59:59.999999Z"),
            (-1, 999_999, "1969-12-31T23:59:59.999999Z"),
            (-86_400, 0, "1969-12-31T00:00:00.000000Z"),
            (-2_208_988_800, 0, "1900-01-01T00:00:00.000000Z"),
            (-2_203_891_200, 0, "1900-03-01T00:00:00.000000Z"), // 1900 is not a leap year
            (-62_135_596_800, 0, "0001-01-01T00:00:00.000000Z"),
            (-62_167_219_200, 0, "0000-01-01T00:00:00.000000Z"),
        ];
        for (secs, micros, want) in cases {
            assert_eq!(at(secs, micros), want, "{secs}s {micros}µs");
        }
    }

    #[test]
    fn sub_microseconds_floor_on_both_sides_of_the_epoch() {
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, UNIX_EPOCH + Duration::from_nanos(1_999));
        out.push(b' ');
        write_rfc3339_micros(&mut out, UNIX_EPOCH - Duration::from_nanos(1));
        out.push(b' ');
        write_rfc3339_micros(&mut out, UNIX_EPOCH - Duration::from_nanos(1_000));
        out.push(b' ');
        write_rfc3339_micros(&mut out, UNIX_EPOCH - Duration::from_nanos(1_001));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:00.000001Z 1969-12-31T23:59:59.999999Z \
             1969-12-31T23:59:59.999999Z 1969-12-31T23:59:59.999998Z"
        );
    }

    #[test]
    fn the_per_thread_cache_never_serves_a_stale_second() {
        let base = 1_795_532_881;
        let seq = [
            (base, 1, "2026-11-24T15:08:01.000001Z"),
            (base, 999_999, "2026-11-24T15:08:01.999999Z"),
            (base + 1, 0, "2026-11-24T15:08:02.000000Z"),
            (base, 5, "2026-11-24T15:08:01.000005Z"),
            (base + 86_400, 5, "2026-11-25T15:08:01.000005Z"),
            (-1, 0, "1969-12-31T23:59:59.000000Z"),
            (base, 5, "2026-11-24T15:08:01.000005Z"),
        ];
        for (secs, micros, want) in seq {
            assert_eq!(at(secs, micros), want);
        }
        // Another thread has its own cache.
        let other = std::thread::spawn(move || at(base + 2, 7)).join().unwrap();
        assert_eq!(other, "2026-11-24T15:08:03.000007Z");
        assert_eq!(at(base, 6), "2026-11-24T15:08:01.000006Z");
    }

    #[test]
    fn out_of_range_years_clamp() {
        assert_eq!(at(253_402_300_800, 0), "9999-12-31T23:59:59.999999Z");
        assert_eq!(at(400_000_000_000, 0), "9999-12-31T23:59:59.999999Z");
        assert_eq!(at(-62_167_219_201, 0), "0000-01-01T00:00:00.000000Z");
        assert_eq!(at(-100_000_000_000, 0), "0000-01-01T00:00:00.000000Z");
    }

    #[test]
    fn every_day_from_1600_to_2400_matches_slow_count() {
        let mut days = days_from_civil_slow(1600, 1, 1);
        for y in 1600..2400 {
            for m in 1..=12u32 {
                for d in 1..=month_days(y, m) {
                    assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
                    days += 1;
                }
            }
        }
        assert_eq!(days, days_from_civil_slow(2400, 1, 1));
        assert_eq!(days_from_civil_slow(2000, 1, 1), 10_957);
    }

    #[test]
    fn now_is_well_formed() {
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, SystemTime::now());
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.len(), 27, "{s}");
        for (i, b) in s.bytes().enumerate() {
            match i {
                4 | 7 => assert_eq!(b, b'-'),
                10 => assert_eq!(b, b'T'),
                13 | 16 => assert_eq!(b, b':'),
                19 => assert_eq!(b, b'.'),
                26 => assert_eq!(b, b'Z'),
                _ => assert!(b.is_ascii_digit(), "{s}"),
            }
        }
        assert!(s.as_str() > "2025");
    }
}
