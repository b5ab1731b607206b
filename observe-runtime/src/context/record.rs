//! The one record observe keeps per span.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing_core::Metadata;
use tracing_core::field::{Field, Visit};

use super::ids::{SpanId, TraceId};
use crate::fields;
use crate::filter::SignalSet;
use crate::value::{FieldValue, FieldValues};

/// How a span ended, as the `result` metric label and the log line report it.
///
/// ```
/// use observe_runtime::context::Outcome;
///
/// assert_eq!(Outcome::Error.as_str(), "error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Completed without any sign of failure.
    Ok,
    /// Returned `Err` or panicked (`observe.result` is `error` or `panic`), or carried an
    /// `error` field or `otel.status_code = "ERROR"`.
    Error,
    /// A future dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// The label value: `ok`, `error` or `cancelled`.
    ///
    /// ```
    /// use observe_runtime::context::Outcome;
    ///
    /// assert_eq!(Outcome::Ok.as_str(), "ok");
    /// assert_eq!(Outcome::Cancelled.as_str(), "cancelled");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// One field of a span: its name and its latest value.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanField {
    /// Position in the span's declaration; keeps fields recorded later in declared order.
    index: usize,
    /// The field name as declared.
    pub name: &'static str,
    /// The latest recorded value.
    pub value: FieldValue,
}

/// A span this one follows from (`follows_from`, `observe_async!`): an OpenTelemetry link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The trace of the span linked to.
    pub trace_id: TraceId,
    /// The span linked to.
    pub span_id: SpanId,
}

/// What observe knows about one span: ids, typed field values, timing, outcome, links.
///
/// The layer keeps it in the span's extensions while the span is open; read it with
/// [`with_record`](super::with_record).
#[derive(Debug)]
pub struct SpanRecord {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) started: Instant,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    /// The parent is a caller's span, known from a `traceparent`.
    pub(crate) parent_is_remote: bool,
    /// The parent of the exported span: the nearest ancestor the traces filter takes, or
    /// the caller's span (then `true`), so that an exported span never names a parent that
    /// is not exported.
    pub(crate) exported_parent: Option<(SpanId, bool)>,
    /// Trace export is on and its filter leaves this span out: the span is not exported,
    /// and propagates (and is linked to as) its exported parent instead.
    pub(crate) stands_aside: bool,
    /// The trace is sampled (W3C `sampled` flag): the span is exported when trace export
    /// takes it, and the flag is propagated.
    pub(crate) sampled: bool,
    /// The trace id is random (W3C Level 2 `random-trace-id` flag, propagated).
    pub(crate) random_trace_id: bool,
    /// The caller's `tracestate`, passed on unchanged to the whole local trace.
    pub(crate) tracestate: Option<Arc<str>>,
    /// Which signals take this span (decided by their filters when it was created).
    pub(crate) signals: SignalSet,
    /// The [`Signals`](crate::Signals) layer that made the record: another one stacked in
    /// the same subscriber leaves it alone.
    pub(crate) owner: u32,
    fields: Vec<SpanField>,
    pub(crate) links: Vec<Link>,
    /// Links past the span link count limit.
    pub(crate) dropped_links: u32,
    /// An `error` field or `otel.status_code = "ERROR"` was recorded, or `observe.result`
    /// said `error` or `panic`.
    failed: bool,
    /// `observe.result = "panic"`.
    pub(crate) panicked: bool,
    /// `observe.result = "cancelled"`.
    cancelled: bool,
    latency: Option<Duration>,
    /// The call's place in its `<metric>_in_flight` gauge (`track_concurrency`), given
    /// back when the span closes; it holds the label set's `result="ok"` series, which a
    /// successful call is then counted in without a second lookup.
    pub(crate) in_flight: Option<crate::metrics::InFlightCall>,
    /// `metric_name` or a `metric_label_*` field was recorded after the span was created.
    pub(crate) metric_fields_changed: bool,
    /// What the log signal keeps between this span's lines.
    pub(crate) log: crate::log::SpanLogCache,
    /// What the trace signal collects for the exported span (its events).
    #[cfg(feature = "otlp")]
    pub(crate) trace: crate::trace::SpanTraceData,
}

/// Counts changes to any span's fields after creation (`Span::record`): encodings of
/// inherited fields made before a change are stale.
static FIELDS_CHANGED: AtomicU64 = AtomicU64::new(0);

/// The current count of field changes, to tag an encoding with.
#[inline]
pub(crate) fn fields_generation() -> u64 {
    FIELDS_CHANGED.load(Ordering::Acquire)
}

/// Marks every encoding of inherited fields stale.
pub(crate) fn fields_changed() {
    FIELDS_CHANGED.fetch_add(1, Ordering::AcqRel);
}

/// Where a new record sits in its trace.
#[derive(Clone, Debug)]
pub(crate) struct Lineage {
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) parent_is_remote: bool,
    pub(crate) exported_parent: Option<(SpanId, bool)>,
    pub(crate) sampled: bool,
    pub(crate) random_trace_id: bool,
    pub(crate) tracestate: Option<Arc<str>>,
}

impl SpanRecord {
    pub(crate) fn new(
        metadata: &'static Metadata<'static>,
        lineage: Lineage,
        span_id: SpanId,
        signals: SignalSet,
        owner: u32,
    ) -> Self {
        SpanRecord {
            metadata,
            started: Instant::now(),
            trace_id: lineage.trace_id,
            span_id,
            parent_span_id: lineage.parent_span_id,
            parent_is_remote: lineage.parent_is_remote,
            exported_parent: lineage.exported_parent,
            stands_aside: false,
            sampled: lineage.sampled,
            random_trace_id: lineage.random_trace_id,
            tracestate: lineage.tracestate,
            signals,
            owner,
            fields: Vec::with_capacity(metadata.fields().len()),
            links: Vec::new(),
            dropped_links: 0,
            failed: false,
            panicked: false,
            cancelled: false,
            latency: None,
            in_flight: None,
            metric_fields_changed: false,
            log: Default::default(),
            #[cfg(feature = "otlp")]
            trace: Default::default(),
        }
    }

    /// The trace this span belongs to: the id on its log lines, in propagated `traceparent`
    /// headers and on the exported span.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// This span's id.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The parent span's id (a local span, or a caller's from `traceparent`); `None` for a
    /// root span.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// The span id that stands for this span in propagated `traceparent` headers and in
    /// links: its own, unless trace export leaves it out, then its exported parent's.
    pub(crate) fn propagated_span_id(&self) -> SpanId {
        match self.exported_parent {
            Some((parent, _)) if self.stands_aside => parent,
            _ => self.span_id,
        }
    }

    /// Whether an exemplar of this span leads somewhere: the trace is sampled, and the span
    /// is exported or stands aside for an exported parent (or nothing is exported, and the
    /// trace id leads to the log lines).
    pub(crate) fn leads_to_a_trace(&self) -> bool {
        self.sampled && !(self.stands_aside && self.exported_parent.is_none())
    }

    /// Whether the parent is a caller's span, known from its `traceparent`.
    pub fn is_parent_remote(&self) -> bool {
        self.parent_is_remote
    }

    /// Whether the trace is sampled (the W3C `sampled` flag this span propagates).
    pub fn is_sampled(&self) -> bool {
        self.sampled
    }

    /// When the span was created.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The span's own fields in declaration order, with their latest values.
    pub fn fields(&self) -> &[SpanField] {
        &self.fields
    }

    /// The latest value of the span's own field `name`.
    pub fn field(&self, name: &str) -> Option<&FieldValue> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }

    /// The spans this one follows from.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// How the span ended (or how it stands, while it is open).
    pub fn outcome(&self) -> Outcome {
        if self.failed {
            Outcome::Error
        } else if self.cancelled {
            Outcome::Cancelled
        } else {
            Outcome::Ok
        }
    }

    /// Time from creation to close; `None` while the span is open.
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// Fixes the latency at the first close notification; later readers see the same
    /// value, so the clock is read once per close.
    pub(crate) fn close(&mut self) -> Duration {
        *self.latency.get_or_insert_with(|| self.started.elapsed())
    }

    /// Adds a link unless it is there already (a span may be linked both when it is made
    /// and by a later `follows_from` naming the same cause); past `limit` links it is
    /// counted instead.
    pub(crate) fn add_link(&mut self, link: Link, limit: usize) {
        if self.links.contains(&link) {
            return;
        }
        if self.links.len() < limit {
            self.links.push(link);
        } else {
            self.dropped_links = self.dropped_links.saturating_add(1);
        }
    }

    pub(crate) fn set(&mut self, field: &Field, value: FieldValue) {
        self.log.fields_changed();
        match field.name() {
            fields::RESULT => match value.as_str() {
                Some("error") => self.failed = true,
                Some("panic") => {
                    self.failed = true;
                    self.panicked = true;
                }
                Some("cancelled") => self.cancelled = true,
                _ => {}
            },
            fields::ERROR => self.failed = true,
            fields::OTEL_STATUS_CODE
                if value
                    .as_str()
                    .is_some_and(|code| code.eq_ignore_ascii_case("error")) =>
            {
                self.failed = true
            }
            _ => {}
        }
        let index = field.index();
        // Fields arrive in declaration order at creation: usually an append.
        if self.fields.last().is_none_or(|last| last.index < index) {
            self.fields.push(SpanField {
                index,
                name: field.name(),
                value,
            });
            return;
        }
        match self.fields.binary_search_by_key(&index, |f| f.index) {
            Ok(at) => self.fields[at].value = value,
            Err(at) => self.fields.insert(
                at,
                SpanField {
                    index,
                    name: field.name(),
                    value,
                },
            ),
        }
    }
}

impl SpanRecord {
    /// Records values given after the span was created (`Span::record`).
    ///
    /// Returns whether a field that child spans and events inherit changed (one that is
    /// not [span-local](crate::fields::is_span_local)): only then are the encodings of
    /// inherited context made before it stale. An HTTP response's status, recorded on
    /// every request, is span-local and leaves them valid.
    pub(crate) fn record_later(&mut self, values: &tracing_core::span::Record<'_>) -> bool {
        values.record(&mut FieldValues(|field: &Field, value| {
            self.set(field, value)
        }));
        let mut names = ChangedNames::default();
        values.record(&mut names);
        self.metric_fields_changed |= names.metric;
        names.inherited
    }
}

/// What kinds of field values name (the values unread): `metric_name` or a
/// `metric_label_*` field, and fields that are inherited.
#[derive(Default)]
struct ChangedNames {
    metric: bool,
    inherited: bool,
}

impl Visit for ChangedNames {
    fn record_debug(&mut self, field: &Field, _: &dyn std::fmt::Debug) {
        let name = field.name();
        self.metric |= name == fields::METRIC_NAME || name.starts_with(fields::METRIC_LABEL_PREFIX);
        self.inherited |= !fields::is_span_local(name);
    }
}
