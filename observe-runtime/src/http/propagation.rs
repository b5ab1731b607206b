//! W3C trace context in HTTP headers: reading a caller's `traceparent`, writing ours.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::context::{SpanId, TraceId};

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// The caller's trace context from `traceparent`/`tracestate`; an empty context (a new
/// trace) when they are absent or malformed, which is never an error.
pub(crate) fn extract(headers: &HeaderMap) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// The ids of a valid remote parent, for the context store when OpenTelemetry is off.
pub(crate) fn remote_ids(cx: &opentelemetry::Context) -> Option<(TraceId, SpanId)> {
    let span = cx.span();
    let remote = span.span_context();
    remote
        .is_valid()
        .then(|| (remote.trace_id(), remote.span_id()))
}

/// Writes `traceparent` (and `tracestate`) for the current span into outgoing request
/// headers, so that the callee's spans join this trace.
///
/// With OpenTelemetry on, that is the current span's OpenTelemetry context; without it,
/// the ids the context store gave the span, so that log lines on both sides still share the
/// trace id. Outside any span it writes nothing.
///
/// ```
/// use observe_runtime::context::ContextLayer;
/// use observe_runtime::http::inject_trace_context;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(ContextLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let mut headers = http::HeaderMap::new();
///     inject_trace_context(&mut headers); // no span: nothing to propagate
///     assert!(headers.get("traceparent").is_none());
///
///     let _span = tracing::info_span!("call vendor").entered();
///     inject_trace_context(&mut headers);
///     let traceparent = headers["traceparent"].to_str().unwrap();
///     assert!(traceparent.starts_with("00-") && traceparent.ends_with("-01"));
/// });
/// ```
pub fn inject_trace_context(headers: &mut HeaderMap) {
    let span = tracing::Span::current();
    if span.is_none() {
        return;
    }
    let mut cx = span.context();
    if !cx.span().span_context().is_valid() {
        let Some((trace_id, span_id)) = crate::context::current_ids() else {
            return;
        };
        let local = SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        cx = opentelemetry::Context::new().with_remote_span_context(local);
    }
    TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(headers));
}
