//! The W3C `traceparent` header, read and written to the letter of Trace Context Level 1,
//! with Level 2's random-trace-id flag kept.

use crate::context::{SpanId, TraceId};

/// The fields of a valid `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Traceparent {
    pub(crate) trace_id: TraceId,
    pub(crate) parent_id: SpanId,
    pub(crate) sampled: bool,
    /// Level 2's random flag: at least the right-most 7 bytes of the trace id are random.
    pub(crate) random: bool,
}

/// The `sampled` bit of the trace flags.
const SAMPLED: u8 = 0x01;
/// The `random-trace-id` bit of the trace flags (Trace Context Level 2).
const RANDOM: u8 = 0x02;

/// Length of a version-00 `traceparent`: `vv-<32>-<16>-ff`.
const LEN: usize = 55;

/// Parses one `traceparent` value; `None` when it is invalid, and the caller then starts a
/// new trace:
/// - surrounding blanks (spaces, tabs) are ignored, as HTTP's optional whitespace;
/// - every field is lowercase hex of its exact length: version 2, trace id 32, parent id 16,
///   flags 2; uppercase is invalid;
/// - version `ff` is invalid; version `00` is exactly 55 characters; a later version is
///   read by its version-00 prefix, which must be followed by nothing or a `-`;
/// - an all-zero trace id or parent id is invalid.
pub(crate) fn parse(value: &str) -> Option<Traceparent> {
    let value = value.trim_matches([' ', '\t']);
    let bytes = value.as_bytes();
    // ASCII, so that the slices below fall on character boundaries.
    if bytes.len() < LEN || !bytes[..LEN].is_ascii() {
        return None;
    }
    let version = hex_u8(&bytes[0..2])?;
    match version {
        0xff => return None,
        0x00 if bytes.len() != LEN => return None,
        _ if bytes.len() > LEN && bytes[LEN] != b'-' => return None,
        _ => {}
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let trace_id = TraceId::from_hex(&value[3..35])?;
    let parent_id = SpanId::from_hex(&value[36..52])?;
    let flags = hex_u8(&bytes[53..55])?;
    Some(Traceparent {
        trace_id,
        parent_id,
        sampled: flags & SAMPLED != 0,
        random: flags & RANDOM != 0,
    })
}

/// Two lowercase hex digits.
fn hex_u8(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    Some(digit(pair[0])? << 4 | digit(pair[1])?)
}

/// The version-00 `traceparent` for a span.
pub(crate) fn format(trace_id: TraceId, span_id: SpanId, sampled: bool, random: bool) -> String {
    format!("00-{trace_id}-{span_id}-{:02x}", flags(sampled, random))
}

/// The trace flags byte.
pub(crate) fn flags(sampled: bool, random: bool) -> u8 {
    (if sampled { SAMPLED } else { 0 }) | (if random { RANDOM } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn ok(value: &str) -> Traceparent {
        parse(value).unwrap_or_else(|| panic!("{value:?} should parse"))
    }

    fn bad(value: &str) {
        assert_eq!(parse(value), None, "{value:?} should be refused");
    }

    #[test]
    fn a_valid_header_is_read() {
        let tp = ok(&format!("00-{TRACE}-{PARENT}-01"));
        assert_eq!(tp.trace_id.to_string(), TRACE);
        assert_eq!(tp.parent_id.to_string(), PARENT);
        assert!(tp.sampled);
        assert!(!ok(&format!("00-{TRACE}-{PARENT}-00")).sampled);
        // Only the sampled bit is read from the flags.
        assert!(!ok(&format!("00-{TRACE}-{PARENT}-02")).sampled);
        assert!(ok(&format!("00-{TRACE}-{PARENT}-ff")).sampled);
        assert!(ok(&format!("00-{TRACE}-{PARENT}-02")).random);
        assert!(ok(&format!("00-{TRACE}-{PARENT}-03")).random);
        assert!(!ok(&format!("00-{TRACE}-{PARENT}-01")).random);
    }

    #[test]
    fn blanks_around_are_optional_whitespace() {
        for value in [
            format!(" 00-{TRACE}-{PARENT}-01"),
            format!("\t00-{TRACE}-{PARENT}-01"),
            format!("00-{TRACE}-{PARENT}-01 "),
            format!("\t 00-{TRACE}-{PARENT}-01 \t"),
        ] {
            ok(&value);
        }
    }

    #[test]
    fn wrong_lengths_are_refused() {
        bad("00-4bf92f35-00f067aa-01");
        bad(&format!("0-{TRACE}-{PARENT}-01"));
        bad(&format!("000-{TRACE}-{PARENT}-01"));
        bad(&format!("0000-{TRACE}-{PARENT}-01"));
        bad(&format!("00-{TRACE}1-{PARENT}-01"));
        bad(&format!("00-{}-{PARENT}-01", &TRACE[..31]));
        bad(&format!("00-{TRACE}-{PARENT}1-01"));
        bad(&format!("00-{TRACE}-{}-01", &PARENT[..15]));
        bad(&format!("00-{TRACE}-{PARENT}-001"));
        bad(&format!("00-{TRACE}-{PARENT}-1"));
        bad("");
        bad(&format!("00-{}é-{PARENT}-01", &TRACE[..30]));
    }

    #[test]
    fn characters_outside_lowercase_hex_are_refused() {
        bad(&format!("00-{}-{PARENT}-01", TRACE.to_uppercase()));
        bad(&format!("00-{TRACE}-{}-01", PARENT.to_uppercase()));
        bad(&format!("0A-{TRACE}-{PARENT}-01"));
        bad(&format!(".0-{TRACE}-{PARENT}-01"));
        bad(&format!("00-.{}-{PARENT}-01", &TRACE[1..]));
        bad(&format!("00-{TRACE}-{}.-01", &PARENT[..15]));
        bad(&format!("00-{TRACE}-{PARENT}-.0"));
        bad(&format!("00-{TRACE}-{PARENT}-0."));
        bad(&format!("00_{TRACE}-{PARENT}-01"));
    }

    #[test]
    fn invalid_values_are_refused() {
        bad(&format!("ff-{TRACE}-{PARENT}-01"));
        bad(&format!("00-{}-{PARENT}-01", "0".repeat(32)));
        bad(&format!("00-{TRACE}-{}-01", "0".repeat(16)));
    }

    #[test]
    fn version_00_has_nothing_after_the_flags() {
        bad(&format!("00-{TRACE}-{PARENT}-01."));
        bad(&format!(
            "00-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
        ));
    }

    #[test]
    fn later_versions_are_read_by_their_prefix() {
        ok(&format!("cc-{TRACE}-{PARENT}-01"));
        ok(&format!(
            "cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
        ));
        bad(&format!(
            "cc-{TRACE}-{PARENT}-01.what-the-future-will-be-like"
        ));
    }

    #[test]
    fn written_as_version_00() {
        let tp = ok(&format!("00-{TRACE}-{PARENT}-01"));
        assert_eq!(
            format(tp.trace_id, tp.parent_id, true, false),
            format!("00-{TRACE}-{PARENT}-01")
        );
        assert!(format(tp.trace_id, tp.parent_id, false, false).ends_with("-00"));
        assert!(format(tp.trace_id, tp.parent_id, false, true).ends_with("-02"));
        assert!(format(tp.trace_id, tp.parent_id, true, true).ends_with("-03"));
    }
}
