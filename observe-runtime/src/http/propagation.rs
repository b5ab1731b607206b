//! W3C trace context in and out of HTTP headers.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Propagation headers longer than this are ignored. A `traceparent` is 55 bytes and W3C
/// caps `tracestate` at 32 members; a larger value is noise or an attack, and parsing it
/// would cost every request.
const MAX_HEADER_LEN: usize = 8 * 1024;

/// Runs `f` with the global propagator, or with W3C trace context when none is installed.
///
/// Without the fallback a service with OpenTelemetry off (the global propagator is then a
/// no-op) could not continue the caller's trace id in its log lines. A propagator that
/// declares no fields can neither read nor write anything, so it stands for "none set".
fn with_propagator<T>(f: impl FnOnce(&dyn TextMapPropagator) -> T) -> T {
    let mut f = Some(f);
    let mut call = |propagator: &dyn TextMapPropagator| {
        (f.take().expect("the propagator is looked up once"))(propagator)
    };
    opentelemetry::global::get_text_map_propagator(|global| {
        if global.fields().next().is_some() {
            call(global)
        } else {
            call(&TraceContextPropagator::new())
        }
    })
}

/// The caller's context from `traceparent`/`tracestate` (or whatever the global propagator
/// reads), on top of the current one. A missing, malformed or oversized header leaves the
/// current context as it is, so the request starts a new trace.
pub(crate) fn extract(headers: &HeaderMap) -> Context {
    with_propagator(|propagator| propagator.extract(&Headers(headers)))
}

/// Writes the current span's trace context into outgoing request headers (`traceparent`
/// and `tracestate` with the default W3C propagator), so the service called continues
/// this trace.
///
/// Uses the global propagator (which [`OtelPipeline::start`](crate::otel::OtelPipeline::start)
/// sets to W3C trace context), or W3C trace context when none is installed. Without
/// OpenTelemetry there is no span context to send and the headers are left as they are.
///
/// ```
/// use observe_runtime::http::inject_trace_context;
/// use opentelemetry::trace::TracerProvider as _;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("example"));
/// let subscriber = tracing_subscriber::registry().with(otel);
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("call upstream", otel.kind = "client").entered();
///     let mut headers = http::HeaderMap::new();
///     inject_trace_context(&mut headers);
///     assert!(headers["traceparent"].to_str().unwrap().starts_with("00-"));
/// });
///
/// // Without OpenTelemetry: nothing to propagate, nothing written.
/// let mut headers = http::HeaderMap::new();
/// inject_trace_context(&mut headers);
/// assert!(headers.is_empty());
/// ```
pub fn inject_trace_context(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    with_propagator(|propagator| propagator.inject_context(&cx, &mut HeadersMut(headers)));
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = self.0.get(key)?;
        if value.len() > MAX_HEADER_LEN {
            return None;
        }
        value.to_str().ok()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        // A propagator producing an unsendable header is a bug in it; dropping the header
        // loses only the propagation, never the request.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn extracts_a_valid_traceparent() {
        let cx = extract(&headers(&[("traceparent", PARENT)]));
        let span = cx.span();
        let remote = span.span_context();
        assert!(remote.is_valid() && remote.is_remote());
        assert_eq!(
            format!("{:032x}", remote.trace_id()),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn malformed_or_huge_headers_are_ignored() {
        let huge = format!("{PARENT}{}", "-x".repeat(MAX_HEADER_LEN));
        for value in ["garbage", "00-xyz-abc-01", &huge] {
            let cx = extract(&headers(&[("traceparent", value)]));
            assert!(!cx.span().span_context().is_valid(), "{value:.40}");
        }
    }

    #[test]
    fn round_trips_through_headers() {
        let cx = extract(&headers(&[
            ("traceparent", PARENT),
            ("tracestate", "vendor=opaque"),
        ]));
        let mut out = HeaderMap::new();
        with_propagator(|p| p.inject_context(&cx, &mut HeadersMut(&mut out)));
        assert_eq!(out["traceparent"], PARENT);
        assert_eq!(out["tracestate"], "vendor=opaque");
    }
}
