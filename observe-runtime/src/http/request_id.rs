//! The request id: taken from the caller when it is sane, made here (UUIDv7) when not.

use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;

use crate::log::primitives::hex8;

/// The longest incoming request id kept; longer ones are replaced. Generous for the usual
/// UUIDs, ULIDs and trace-style ids, small enough that a hostile value cannot bloat every
/// log line of the request.
///
/// ```
/// use http::HeaderValue;
/// use observe_runtime::http::{MAX_REQUEST_ID_LEN, RequestId};
///
/// let longest = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LEN)).unwrap();
/// assert_eq!(RequestId::from_header(Some(&longest)).as_str().len(), MAX_REQUEST_ID_LEN);
/// let too_long = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LEN + 1)).unwrap();
/// assert_eq!(RequestId::from_header(Some(&too_long)).as_str().len(), 36); // a new UUIDv7
/// ```
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of one request, as recorded in the span's `request_id` field and echoed in the
/// response header.
///
/// [`ObserveLayer`](super::ObserveLayer) puts it in the request's extensions, so a handler can
/// read it (e.g. to put it in an error body):
///
/// ```
/// use axum::{Extension, Router, routing::get};
/// use observe_runtime::http::{ObserveLayer, RequestId};
///
/// async fn handler(Extension(id): Extension<RequestId>) -> String {
///     format!("your request id is {}", id.as_str())
/// }
/// let app: Router = Router::new().route("/", get(handler)).layer(ObserveLayer::new());
/// # drop(app);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The caller's id when it is sane (1 to [`MAX_REQUEST_ID_LEN`] bytes of visible ASCII),
    /// else a new UUIDv7. A value with spaces, control characters or non-ASCII bytes is
    /// replaced rather than cleaned: a half-kept id would match nothing upstream anyway.
    ///
    /// ```
    /// use http::HeaderValue;
    /// use observe_runtime::http::RequestId;
    ///
    /// let kept = RequestId::from_header(Some(&HeaderValue::from_static("req-42")));
    /// assert_eq!(kept.as_str(), "req-42");
    /// let replaced = RequestId::from_header(Some(&HeaderValue::from_static("has space")));
    /// assert_eq!(replaced.as_str().len(), 36);
    /// ```
    pub fn from_header(value: Option<&HeaderValue>) -> RequestId {
        match value {
            Some(value) if is_sane(value.as_bytes()) => RequestId(value.clone()),
            _ => RequestId::generate(),
        }
    }

    /// A new UUIDv7 (RFC 9562): time-ordered, so ids sort by arrival, with 74 random bits.
    ///
    /// ```
    /// use observe_runtime::http::RequestId;
    ///
    /// let id = RequestId::generate();
    /// assert_eq!(id.as_str().as_bytes()[14], b'7'); // the version digit
    /// assert_ne!(id, RequestId::generate());
    /// ```
    pub fn generate() -> RequestId {
        let text = uuid_v7(unix_millis(), rand::random());
        RequestId(HeaderValue::from_bytes(&text).expect("a UUID is visible ASCII"))
    }

    /// The id as text.
    ///
    /// ```
    /// use observe_runtime::http::RequestId;
    ///
    /// assert!(RequestId::generate().as_str().is_ascii());
    /// ```
    pub fn as_str(&self) -> &str {
        // Both constructors guarantee visible ASCII.
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value, for echoing or forwarding it.
    ///
    /// ```
    /// use observe_runtime::http::RequestId;
    ///
    /// let id = RequestId::generate();
    /// assert_eq!(id.header_value().to_str().unwrap(), id.as_str());
    /// ```
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

fn is_sane(bytes: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&bytes.len()) && bytes.iter().all(|b| b.is_ascii_graphic())
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// Lays out a UUIDv7: 48 bits of Unix milliseconds, version 7, 12 random bits, variant
/// `10`, 62 random bits, as its 36 characters of text. Written digit by digit rather than
/// with `format!`, which cost ten times as much (about 3,000 instructions per request).
fn uuid_v7(millis: u64, random: u128) -> [u8; 36] {
    const RANDOM_BITS: u128 = (1 << 80) - 1;
    let mut v = (u128::from(millis & 0xFFFF_FFFF_FFFF) << 80) | (random & RANDOM_BITS);
    v = (v & !(0xF << 76)) | (0x7 << 76);
    v = (v & !(0x3 << 62)) | (0x2 << 62);
    let mut hex = [0u8; 32];
    hex[..16].copy_from_slice(&hex8(((v >> 64) as u64).to_be_bytes()));
    hex[16..].copy_from_slice(&hex8((v as u64).to_be_bytes()));
    // 8-4-4-4-12 digits.
    let mut text = [b'-'; 36];
    text[..8].copy_from_slice(&hex[..8]);
    text[9..13].copy_from_slice(&hex[8..12]);
    text[14..18].copy_from_slice(&hex[12..16]);
    text[19..23].copy_from_slice(&hex[16..20]);
    text[24..].copy_from_slice(&hex[20..]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v7_layout() {
        let id = uuid_v7(0x0123_4567_89AB, u128::MAX);
        assert_eq!(&id, b"01234567-89ab-7fff-bfff-ffffffffffff");
        let id = uuid_v7(0, 0);
        assert_eq!(&id, b"00000000-0000-7000-8000-000000000000");
        // Every digit in its place: a value whose nibbles all differ.
        let id = uuid_v7(0xFEDC_BA98_7654, 0x3210_0123_4567_89AB_CDEF);
        assert_eq!(&id, b"fedcba98-7654-7210-8123-456789abcdef");
    }

    #[test]
    fn generated_ids_sort_by_time() {
        let a = uuid_v7(1_000, u128::MAX);
        let b = uuid_v7(1_001, 0);
        assert!(a < b);
    }

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(is_sane(b"abc-123_X.y:z"));
        assert!(is_sane(&[b'a'; MAX_REQUEST_ID_LEN]));
        for bad in [
            &b""[..],
            b"a b",
            b"a\tb",
            b"a\r\nb",
            b"caf\xc3\xa9",
            b"\x00",
            b"\x7f",
            &[b'a'; MAX_REQUEST_ID_LEN + 1],
        ] {
            assert!(!is_sane(bad), "{bad:?}");
        }
    }
}
