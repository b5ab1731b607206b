//! W3C Trace Context: reading a caller's `traceparent` / `tracestate`, continuing its trace,
//! and writing the current span's context into outgoing requests.
//!
//! observe numbers spans itself, so all of this works with trace export off too: the log
//! lines of a request carry its caller's trace id, and the services it calls log the same
//! one.
//!
//! ```
//! use observe_runtime::propagation::TraceContext;
//!
//! // A caller's context, e.g. from the headers of a message or an RPC.
//! let caller = TraceContext::from_w3c(
//!     ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
//!     ["vendor=opaque"],
//! )
//! .expect("a valid traceparent");
//! assert_eq!(caller.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(caller.tracestate(), Some("vendor=opaque"));
//!
//! // Root spans created inside continue the caller's trace:
//! let _guard = observe_runtime::init().unwrap();
//! let span = caller.in_scope(|| tracing::info_span!("handle message"));
//! let here = span.in_scope(TraceContext::current).expect("a current span");
//! assert_eq!(here.trace_id(), caller.trace_id());
//! assert_ne!(here.span_id(), caller.span_id());
//! assert!(here.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
//! ```

mod traceparent;
mod tracestate;

// Only the OTLP span conversion needs the flag byte itself.
#[cfg(feature = "otlp")]
pub(crate) use traceparent::flags as trace_flags;

use std::fmt;
use std::sync::Arc;

use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use crate::context::{self, SpanId, SpanRecord, TraceId};

/// The name of the W3C `traceparent` header.
pub const TRACEPARENT: &str = "traceparent";
/// The name of the W3C `tracestate` header.
pub const TRACESTATE: &str = "tracestate";

/// A span's W3C trace context: trace id, span id, the `sampled` flag and the vendors'
/// `tracestate`.
///
/// Get the current span's with [`current`](Self::current) (to propagate it), or a caller's
/// with [`from_w3c`](Self::from_w3c) (to continue it with [`in_scope`](Self::in_scope)).
#[derive(Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: bool,
    /// Trace Context Level 2's random-trace-id flag, kept as the caller sent it.
    random: bool,
    tracestate: Option<Arc<str>>,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("traceparent", &self.traceparent())
            .field("tracestate", &self.tracestate)
            .finish()
    }
}

impl TraceContext {
    /// A context from its parts, without `tracestate`.
    ///
    /// ```
    /// use observe_runtime::context::{SpanId, TraceId};
    /// use observe_runtime::propagation::TraceContext;
    ///
    /// let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    /// let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    /// let cx = TraceContext::new(trace_id, span_id, true);
    /// assert_eq!(cx.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    /// ```
    pub fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> TraceContext {
        TraceContext {
            trace_id,
            span_id,
            sampled,
            random: false,
            tracestate: None,
        }
    }

    /// A caller's context from the values of its `traceparent` and `tracestate` header
    /// fields, as W3C Trace Context reads them:
    ///
    /// - exactly one `traceparent` field, valid to the letter (lowercase hex of the exact
    ///   lengths, version `ff` and all-zero ids invalid, later versions read by their
    ///   prefix); otherwise `None`, and the callee starts a new trace;
    /// - every `tracestate` field, combined in order; a list with an invalid member or more
    ///   than 32 members is dropped as a whole, an empty one is not kept.
    ///
    /// ```
    /// use observe_runtime::propagation::TraceContext;
    ///
    /// let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// assert!(TraceContext::from_w3c([tp], [] as [&str; 0]).is_some());
    /// assert!(TraceContext::from_w3c([tp, tp], [] as [&str; 0]).is_none(), "repeated");
    /// assert!(TraceContext::from_w3c(["00-4bf92f35-00f067aa-01"], [] as [&str; 0]).is_none());
    /// let cx = TraceContext::from_w3c([tp], ["a=1", "b=2"]).unwrap();
    /// assert_eq!(cx.tracestate(), Some("a=1,b=2"));
    /// assert_eq!(TraceContext::from_w3c([tp], ["a="]).unwrap().tracestate(), None);
    /// ```
    pub fn from_w3c<'a>(
        traceparent: impl IntoIterator<Item = &'a str>,
        tracestate: impl IntoIterator<Item = &'a str>,
    ) -> Option<TraceContext> {
        let mut fields = traceparent.into_iter();
        let (Some(only), None) = (fields.next(), fields.next()) else {
            return None;
        };
        let parent = traceparent::parse(only)?;
        Some(TraceContext {
            trace_id: parent.trace_id,
            span_id: parent.parent_id,
            sampled: parent.sampled,
            random: parent.random,
            tracestate: tracestate::combine(tracestate).map(Arc::from),
        })
    }

    /// The context of the current span (the innermost entered span that observe keeps a
    /// record of), to propagate to a service this one calls. Outside any such span, inside
    /// [`in_scope`](Self::in_scope) (as a request's handler is when every filter leaves its
    /// request span out), the caller's context, passed through; `None` otherwise.
    ///
    /// ```
    /// use observe_runtime::propagation::TraceContext;
    ///
    /// let _guard = observe_runtime::init().unwrap();
    /// assert!(TraceContext::current().is_none());
    /// let span = tracing::info_span!("checkout");
    /// let cx = span.in_scope(TraceContext::current).unwrap();
    /// assert!(cx.is_sampled());
    /// ```
    pub fn current() -> Option<TraceContext> {
        tracing::dispatcher::get_default(|dispatch| {
            let current = dispatch.current_span();
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(current.id()?)?;
            span.scope().find_map(|span| {
                let extensions = span.extensions();
                extensions.get::<SpanRecord>().map(TraceContext::of)
            })
        })
        .or_else(context::remote_parent)
    }

    /// The context a span's record holds.
    pub(crate) fn of(record: &SpanRecord) -> TraceContext {
        TraceContext {
            trace_id: record.trace_id,
            span_id: record.propagated_span_id(),
            sampled: record.sampled,
            random: record.random_trace_id,
            tracestate: record.tracestate.clone(),
        }
    }

    /// Runs `f` with this context as the remote parent: the root spans `f` creates (spans
    /// with no current span above them) continue its trace, as its children, with its
    /// `sampled` flag and `tracestate`. This is how a caller's context is continued; the
    /// HTTP layer does it for every request.
    ///
    /// ```
    /// use observe_runtime::propagation::TraceContext;
    ///
    /// let _guard = observe_runtime::init().unwrap();
    /// let caller = TraceContext::from_w3c(
    ///     ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"],
    ///     [] as [&str; 0],
    /// )
    /// .unwrap();
    /// let span = caller.in_scope(|| tracing::info_span!("consume"));
    /// let cx = span.in_scope(TraceContext::current).unwrap();
    /// assert_eq!(cx.trace_id(), caller.trace_id());
    /// assert!(!cx.is_sampled(), "the caller's decision is kept");
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        context::with_remote_parent(self.clone(), f)
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id (the parent id a callee sees).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The W3C `sampled` flag.
    pub fn is_sampled(&self) -> bool {
        self.sampled
    }

    /// Trace Context Level 2's random-trace-id flag: at least the right-most 7 bytes of
    /// the trace id are random. Set on the traces observe starts, and kept from a caller.
    ///
    /// ```
    /// # use observe_runtime::propagation::TraceContext;
    /// let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
    /// let cx = TraceContext::from_w3c([tp], [] as [&str; 0]).unwrap();
    /// assert!(cx.is_random() && cx.is_sampled());
    /// assert_eq!(cx.traceparent(), tp);
    /// ```
    pub fn is_random(&self) -> bool {
        self.random
    }

    /// The `tracestate` list to pass on, if there is one.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    pub(crate) fn tracestate_shared(&self) -> Option<Arc<str>> {
        self.tracestate.clone()
    }

    /// The `traceparent` header value: version 00, this span as the parent.
    ///
    /// ```
    /// # use observe_runtime::propagation::TraceContext;
    /// let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let cx = TraceContext::from_w3c([tp], [] as [&str; 0]).unwrap();
    /// assert_eq!(cx.traceparent(), tp);
    /// ```
    pub fn traceparent(&self) -> String {
        traceparent::format(self.trace_id, self.span_id, self.sampled, self.random)
    }

    /// The context as OpenTelemetry's remote span context, e.g. to hand to another
    /// OpenTelemetry instrumentation (`opentelemetry::Context::new().with_remote_span_context(..)`).
    ///
    /// ```
    /// # use observe_runtime::propagation::TraceContext;
    /// let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let cx = TraceContext::from_w3c([tp], ["a=1"]).unwrap();
    /// let otel = cx.to_otel();
    /// assert!(otel.is_valid() && otel.is_sampled() && otel.is_remote());
    /// assert_eq!(otel.trace_state().header(), "a=1");
    /// ```
    #[cfg(feature = "otlp")]
    pub fn to_otel(&self) -> opentelemetry::trace::SpanContext {
        use opentelemetry::trace::TraceFlags;
        let state = otel_trace_state(self.tracestate.as_deref());
        opentelemetry::trace::SpanContext::new(
            opentelemetry::trace::TraceId::from_bytes(self.trace_id.to_bytes()),
            opentelemetry::trace::SpanId::from_bytes(self.span_id.to_bytes()),
            TraceFlags::new(traceparent::flags(self.sampled, self.random)),
            true,
            state,
        )
    }
}

/// A `tracestate` list as OpenTelemetry's `TraceState`. opentelemetry 0.33 checks keys by
/// Trace Context Level 1 (refusing Level 2 keys such as `ab@`, and by an off-by-one the
/// Level 1 `tenant@system` keys with a 14-character system) and refuses a whole list for
/// one such key; so the members are taken one by one, and those it refuses are left out of
/// the exported span (they are still propagated in full).
#[cfg(feature = "otlp")]
pub(crate) fn otel_trace_state(list: Option<&str>) -> opentelemetry::trace::TraceState {
    use opentelemetry::trace::TraceState;
    let Some(list) = list else {
        return TraceState::default();
    };
    let members = list.split(',').filter_map(|member| {
        let (key, value) = member.split_once('=')?;
        TraceState::from_key_value([(key, value)])
            .is_ok()
            .then_some((key, value))
    });
    TraceState::from_key_value(members).unwrap_or_default()
}
