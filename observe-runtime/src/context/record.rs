//! The one record the context store keeps per span.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing_core::field::{Field, Visit};

use super::ids::{SpanId, TraceId};
use crate::fields;
use crate::value::{FieldValue, Text};

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
    /// Returned `Err`, panicked, logged an ERROR event, or carried an `error` field.
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

/// What the context store knows about one span: ids, typed field values, timing, outcome.
///
/// The layers keep it in the span's extensions; read it with
/// [`with_record`](super::with_record) or from a custom layer:
///
/// ```
/// use observe_runtime::context::{ContextLayer, SpanRecord};
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::registry::LookupSpan;
///
/// let registry = tracing_subscriber::registry().with(ContextLayer::new());
/// let dispatch = tracing::Dispatch::new(registry);
/// tracing::dispatcher::with_default(&dispatch, || {
///     let span = tracing::info_span!("checkout", user = "ada", items = 3_u64);
///     let id = span.id().unwrap();
///     let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>().unwrap();
///     let span_ref = registry.span(&id).unwrap();
///     let extensions = span_ref.extensions();
///     let record = extensions.get::<SpanRecord>().unwrap();
///     assert_eq!(record.field("user").unwrap().as_str(), Some("ada"));
///     assert_eq!(record.fields().len(), 2);
/// });
/// ```
#[derive(Debug)]
pub struct SpanRecord {
    pub(crate) started: Instant,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    fields: Vec<SpanField>,
    /// An ERROR event, an `error` field or `otel.status_code = "ERROR"` was seen.
    failed: bool,
    /// The expansion recorded `observe.result = "cancelled"`.
    cancelled: bool,
    latency: Option<Duration>,
    /// The token of the store that created the record and so updates it (one record per
    /// span however many layers keep one; kept here rather than as a second extension).
    pub(crate) owner: u32,
    /// The log layer's encoding of this span's own fields, written with the open line and
    /// copied into the close line unless a field changed in between.
    pub(crate) encoded_fields: EncodedFields,
    /// The log layer's encoding of what events in this span inherit (ids and the fields in
    /// scope), made at the first event and reused while no span's fields change.
    pub(crate) event_context: Option<Box<EncodedContext>>,
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

/// Names an [`EncodedContext`] holds at most (more are not cached).
pub(crate) const CONTEXT_NAMES: usize = 8;

/// A span's event context as one log format encodes it.
#[derive(Debug)]
pub(crate) struct EncodedContext {
    pub(crate) format: u8,
    pub(crate) generation: u64,
    /// The field names written, so that an event with a field of the same name (which
    /// must win) is told apart.
    pub(crate) names: [&'static str; CONTEXT_NAMES],
    pub(crate) name_count: usize,
    pub(crate) bytes: Box<[u8]>,
}

impl EncodedContext {
    /// The field names written.
    pub(crate) fn names(&self) -> &[&'static str] {
        &self.names[..self.name_count]
    }
}

/// Bytes of encoded fields a record keeps (longer encodings are not kept).
pub(crate) const ENCODED_FIELDS: usize = 118;

/// A span's own fields as one log format encodes them (see the log layer).
#[derive(Debug)]
pub(crate) struct EncodedFields {
    /// Which format wrote `bytes`; 0: none (nothing kept, or a field changed since).
    pub(crate) format: u8,
    pub(crate) len: u8,
    pub(crate) bytes: [u8; ENCODED_FIELDS],
}

impl EncodedFields {
    const EMPTY: EncodedFields = EncodedFields {
        format: 0,
        len: 0,
        bytes: [0; ENCODED_FIELDS],
    };

    /// The bytes `format` wrote, if these are they.
    #[inline]
    pub(crate) fn get(&self, format: u8) -> Option<&[u8]> {
        (self.format == format && format != 0).then(|| &self.bytes[..usize::from(self.len)])
    }

    /// Keeps `bytes` as `format`'s encoding, when they fit.
    #[inline]
    pub(crate) fn set(&mut self, format: u8, bytes: &[u8]) {
        if let Some(dest) = self.bytes.get_mut(..bytes.len()) {
            dest.copy_from_slice(bytes);
            self.len = bytes.len() as u8;
            self.format = format;
        }
    }
}

impl SpanRecord {
    pub(crate) fn new(
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        owner: u32,
        field_count: usize,
    ) -> Self {
        SpanRecord {
            started: Instant::now(),
            trace_id,
            span_id,
            parent_span_id,
            fields: Vec::with_capacity(field_count),
            failed: false,
            cancelled: false,
            latency: None,
            owner,
            encoded_fields: EncodedFields::EMPTY,
            event_context: None,
        }
    }

    /// The trace this span belongs to (the OpenTelemetry trace id when OpenTelemetry is on).
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// This span's id (the OpenTelemetry span id when OpenTelemetry is on).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The parent span's id, `None` for a root span.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
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

    pub(crate) fn mark_failed(&mut self) {
        self.failed = true;
    }

    /// Fixes the latency at the first close notification; later layers read the same value,
    /// so the clock is read once per close however many layers ask.
    pub(crate) fn close(&mut self) -> Duration {
        *self.latency.get_or_insert_with(|| self.started.elapsed())
    }

    fn set(&mut self, field: &Field, value: FieldValue) {
        self.encoded_fields.format = 0;
        match field.name() {
            fields::RESULT => match value.as_str() {
                Some("error") => self.failed = true,
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

/// Writes visited values into a record; `Span::record` and span creation both go through it.
pub(crate) struct RecordVisitor<'a>(pub(crate) &'a mut SpanRecord);

impl Visit for RecordVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.set(field, FieldValue::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.0.set(field, FieldValue::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.0.set(field, FieldValue::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.set(field, FieldValue::Str(value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.set(
            field,
            FieldValue::Str(Text::format(format_args!("{value}"))),
        );
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.set(
            field,
            FieldValue::Str(Text::format(format_args!("{value:?}"))),
        );
    }
}
