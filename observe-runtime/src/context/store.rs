//! Creating and updating span records; shared by every layer of this crate.
//!
//! Each layer embeds a [`Store`], so a layer used on its own still has records. When
//! several are stacked, the innermost one creates the record ("owns" it) and the others
//! only read it: one record, one clock read at open, one set of field copies per span.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use opentelemetry::trace::TraceContextExt;
use tracing_core::dispatcher::WeakDispatch;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::ids::{SpanId, TraceId, new_span_id, new_trace_id};
use super::record::{RecordVisitor, SpanRecord, fields_changed};

/// The layer-side half of the context store: which ids to use and who owns a record.
#[derive(Debug)]
pub(crate) struct Store {
    /// Tells this store's records apart from records another layer created.
    token: u32,
    /// Take ids from tracing-opentelemetry instead of drawing them.
    otel_ids: bool,
    /// An unfiltered context layer sits inside this store's layer (`init` composes it so):
    /// it creates and updates every record, so this store does nothing.
    defer: bool,
    dispatch: OnceLock<WeakDispatch>,
}

impl Default for Store {
    fn default() -> Self {
        static NEXT_TOKEN: AtomicU32 = AtomicU32::new(1);
        Store {
            token: NEXT_TOKEN.fetch_add(1, Ordering::Relaxed),
            otel_ids: false,
            defer: false,
            dispatch: OnceLock::new(),
        }
    }
}

impl Store {
    pub(crate) fn with_otel_ids(mut self, on: bool) -> Self {
        self.otel_ids = on;
        self
    }

    /// Leaves records to a context layer known to sit inside, unfiltered (see `defer`).
    pub(crate) fn deferring(mut self) -> Self {
        self.defer = true;
        self
    }

    pub(crate) fn register(&self, dispatch: &Dispatch) {
        if self.otel_ids {
            let _ = self.dispatch.set(dispatch.downgrade());
        }
    }

    /// Creates the span's record unless an inner layer already did.
    pub(crate) fn on_new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if self.defer {
            return;
        }
        if let Some(span) = ctx.span(id) {
            self.create(attrs, id, &span);
        }
    }

    /// [`on_new_span`](Self::on_new_span) for a layer that has looked the span up already.
    pub(crate) fn create<'a, R>(&self, attrs: &Attributes<'_>, id: &Id, span: &SpanRef<'a, R>)
    where
        R: LookupSpan<'a>,
    {
        if self.defer {
            return;
        }
        // tracing-opentelemetry locks this span's extensions itself: ask it first.
        let otel_ids = self.otel_ids_of(id);
        // One write lock for the check and the insert (ancestors are only ever locked while
        // a descendant is, never the other way round).
        let mut extensions = span.extensions_mut();
        if extensions.get_mut::<SpanRecord>().is_some() {
            return;
        }
        let parent = span.parent().and_then(|parent| {
            let extensions = parent.extensions();
            let record = extensions.get::<SpanRecord>()?;
            Some((record.trace_id, record.span_id))
        });
        // A contextual root continues the current OpenTelemetry context (a caller's
        // `traceparent` attached by the HTTP layer), as tracing-opentelemetry does.
        let parent = parent.or_else(|| attrs.is_contextual().then(remote_parent).flatten());
        let (trace_id, span_id) = otel_ids.unwrap_or_else(|| {
            let trace_id = parent.map_or_else(new_trace_id, |(trace_id, _)| trace_id);
            (trace_id, new_span_id())
        });
        let mut record = SpanRecord::new(
            trace_id,
            span_id,
            parent.map(|(_, span_id)| span_id),
            self.token,
            attrs.metadata().fields().len(),
        );
        attrs.record(&mut RecordVisitor(&mut record));
        extensions.insert(record);
    }

    /// The ids tracing-opentelemetry gave the span, when this store is told to use them.
    fn otel_ids_of(&self, id: &Id) -> Option<(TraceId, SpanId)> {
        let dispatch = self.dispatch.get()?.upgrade()?;
        let cx = tracing_opentelemetry::get_otel_context(id, &dispatch)?;
        let span = cx.span();
        let span_context = span.span_context();
        span_context
            .is_valid()
            .then(|| (span_context.trace_id(), span_context.span_id()))
    }

    pub(crate) fn on_record<S>(&self, id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if self.defer {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>()
            && record.owner == self.token
        {
            values.record(&mut RecordVisitor(record));
            fields_changed();
        }
    }

    /// An ERROR event fails the span it happens in.
    pub(crate) fn on_event<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if self.defer || *event.metadata().level() != Level::ERROR {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>()
            && record.owner == self.token
        {
            record.mark_failed();
        }
    }
}

/// The valid span context that is current in OpenTelemetry, if any: with OpenTelemetry off
/// it still carries a caller's ids into the log lines.
fn remote_parent() -> Option<(TraceId, SpanId)> {
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let span_context = span.span_context();
        span_context
            .is_valid()
            .then(|| (span_context.trace_id(), span_context.span_id()))
    })
}
