//! The request id: the caller's `x-request-id` when it is sane, else a fresh UUIDv7.

use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::HeaderValue;

/// The header that carries the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest caller-supplied id kept; longer ones are replaced, not truncated.
const MAX_LEN: usize = 128;

/// The caller's id if it is 1–128 visible ASCII characters; a new UUIDv7 otherwise, so
/// that no header can smuggle control characters or megabytes into every log line.
pub(crate) fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(REQUEST_ID_HEADER)
        .filter(|value| {
            let bytes = value.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_LEN
                && bytes.iter().all(|b| b.is_ascii_graphic())
        })
        .cloned()
        .unwrap_or_else(new_request_id)
}

/// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by time.
fn new_request_id() -> HeaderValue {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis()) as u64;
    let random = u128::from_be_bytes(crate::context::random_trace_id().to_bytes());
    let mut bits = (u128::from(millis & 0xFFFF_FFFF_FFFF) << 80) | (random & ((1u128 << 80) - 1));
    bits = (bits & !(0xF << 76)) | (0x7 << 76); // version 7
    bits = (bits & !(0b11 << 62)) | (0b10 << 62); // RFC variant
    let hex = format!("{bits:032x}");
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    HeaderValue::from_str(&text).expect("hex and dashes are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn keeps_a_sane_caller_id() {
        assert_eq!(request_id(&with(b"req-42")), "req-42");
    }

    #[test]
    fn replaces_hostile_or_missing_ids_with_a_uuid_v7() {
        let long = vec![b'a'; MAX_LEN + 1];
        for headers in [
            HeaderMap::new(),
            with(b"has space"),
            with(&long),
            with(b"tab\there"),
            with(&[0xff, b'x']),
        ] {
            let id = request_id(&headers);
            let id = id.to_str().unwrap();
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(&id[14..15], "7", "version 7: {id}");
            assert!(
                matches!(&id[19..20], "8" | "9" | "a" | "b"),
                "variant: {id}"
            );
        }
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }
}
