//! W3C trace context in and out of HTTP headers, from observe's own span records: it works
//! with trace export off too.

use http::{HeaderMap, HeaderValue};

use crate::propagation::{TRACEPARENT, TRACESTATE, TraceContext};

/// Propagation headers longer than this are ignored. A `traceparent` is 55 bytes and W3C
/// caps `tracestate` at 32 members; a larger value is noise or an attack, and parsing it
/// would cost every request.
const MAX_HEADER_LEN: usize = 8 * 1024;

/// The caller's context from `traceparent` and `tracestate`, read as W3C Trace Context
/// says: `None` (start a new trace) unless exactly one valid `traceparent` field came;
/// every `tracestate` field is combined in order.
pub(crate) fn extract(headers: &HeaderMap) -> Option<TraceContext> {
    let mut traceparent = headers.get_all(TRACEPARENT).iter();
    let (Some(only), None) = (traceparent.next(), traceparent.next()) else {
        return None;
    };
    // An unreadable (oversized, non-ASCII) `tracestate` field drops the whole list.
    let tracestate: Option<Vec<&str>> = headers.get_all(TRACESTATE).iter().map(text).collect();
    TraceContext::from_w3c([text(only)?], tracestate.unwrap_or_default())
}

/// A header value as text, unless it is oversized or not visible ASCII.
fn text(value: &HeaderValue) -> Option<&str> {
    (value.len() <= MAX_HEADER_LEN)
        .then(|| value.to_str().ok())
        .flatten()
}

/// Writes the current span's trace context into outgoing request headers (`traceparent`,
/// and `tracestate` when the trace carries one), so that the service called continues this
/// trace. The ids are the ones on the log lines, with trace export on or off. Outside any
/// span, the headers are left as they are.
///
/// ```
/// use observe_runtime::http::inject_trace_context;
///
/// let _guard = observe_runtime::init().unwrap();
/// let span = tracing::info_span!("call upstream", otel.kind = "client");
/// let mut headers = http::HeaderMap::new();
/// span.in_scope(|| inject_trace_context(&mut headers));
/// assert!(headers["traceparent"].to_str().unwrap().starts_with("00-"));
///
/// // Outside a span: nothing to propagate, nothing written.
/// let mut headers = http::HeaderMap::new();
/// inject_trace_context(&mut headers);
/// assert!(headers.is_empty());
/// ```
pub fn inject_trace_context(headers: &mut HeaderMap) {
    if let Some(cx) = TraceContext::current() {
        inject(&cx, headers);
    }
}

/// Writes `cx` as `traceparent` and `tracestate`, replacing any already there.
pub(crate) fn inject(cx: &TraceContext, headers: &mut HeaderMap) {
    if let Ok(value) = HeaderValue::from_str(&cx.traceparent()) {
        headers.insert(TRACEPARENT, value);
    }
    headers.remove(TRACESTATE);
    // Validated when it was read: a valid `tracestate` is always a valid header value.
    if let Some(value) = cx.tracestate().and_then(|s| HeaderValue::from_str(s).ok()) {
        headers.insert(TRACESTATE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn extracts_a_valid_traceparent() {
        let cx = extract(&headers(&[("traceparent", PARENT)])).unwrap();
        assert_eq!(
            cx.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(cx.is_sampled());
    }

    #[test]
    fn malformed_repeated_or_huge_headers_start_a_new_trace() {
        let huge = format!("{PARENT}{}", "-x".repeat(MAX_HEADER_LEN));
        for value in ["garbage", "00-xyz-abc-01", "00-4bf92f35-00f067aa-01", &huge] {
            assert!(
                extract(&headers(&[("traceparent", value)])).is_none(),
                "{value:.40}"
            );
        }
        assert!(
            extract(&headers(&[
                ("traceparent", PARENT),
                ("traceparent", PARENT)
            ]))
            .is_none()
        );
    }

    #[test]
    fn repeated_tracestate_fields_are_combined() {
        let cx = extract(&headers(&[
            ("traceparent", PARENT),
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", "baz=3"),
        ]))
        .unwrap();
        assert_eq!(cx.tracestate(), Some("foo=1,bar=2,baz=3"));
    }

    #[test]
    fn round_trips_through_headers() {
        let cx = extract(&headers(&[
            ("traceparent", PARENT),
            ("tracestate", "vendor=opaque"),
        ]))
        .unwrap();
        let mut out = headers(&[("tracestate", "stale=1")]);
        inject(&cx, &mut out);
        assert_eq!(out["traceparent"], PARENT);
        assert_eq!(out["tracestate"], "vendor=opaque");
        let plain = extract(&headers(&[("traceparent", PARENT), ("tracestate", "")])).unwrap();
        let mut out = HeaderMap::new();
        inject(&plain, &mut out);
        assert!(
            !out.contains_key("tracestate"),
            "no empty tracestate is sent"
        );
    }
}
