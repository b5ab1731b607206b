//! Making a span's record: its place in the trace, its sampling decision, its links.

use tracing_core::Subscriber;
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::handoff;
use super::ids::{new_span_id, new_trace_id};
use super::record::{Lineage, Link, SpanRecord};
use super::sampler::Sampler;
use crate::filter::{Signal, SignalSet};
use crate::value::FieldValues;

/// What a new record needs besides the span itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordSettings {
    pub(crate) sampler: Sampler,
    /// Most links a span keeps (`OTEL_SPAN_LINK_COUNT_LIMIT`).
    pub(crate) link_limit: usize,
    /// The token of the layer making records.
    pub(crate) owner: u32,
    /// The layer exports traces: a span its traces filter leaves out stands aside for its
    /// exported ancestor (see [`SpanRecord::exported_parent`]).
    pub(crate) exports_traces: bool,
}

impl Default for RecordSettings {
    fn default() -> Self {
        RecordSettings {
            sampler: Sampler::default(),
            link_limit: 128,
            owner: next_owner(),
            exports_traces: false,
        }
    }
}

/// A token no other layer has.
fn next_owner() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The record of a span being created: a child of its parent's record, of the caller's
/// context handed over for a root span (see [`handoff`]), or the root of a new trace.
pub(crate) fn create_record<S>(
    attrs: &Attributes<'_>,
    span: &SpanRef<'_, S>,
    ctx: &Context<'_, S>,
    signals: SignalSet,
    settings: RecordSettings,
) -> SpanRecord
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let local_parent = span.parent().and_then(|parent| {
        let extensions = parent.extensions();
        let record = extensions.get::<SpanRecord>()?;
        Some(Lineage {
            trace_id: record.trace_id,
            parent_span_id: Some(record.span_id),
            parent_is_remote: false,
            exported_parent: if record.signals.contains(Signal::Traces) {
                Some((record.span_id, false))
            } else {
                record.exported_parent
            },
            sampled: record.sampled,
            random_trace_id: record.random_trace_id,
            tracestate: record.tracestate.clone(),
        })
    });
    let lineage = match local_parent {
        Some(lineage) => Lineage {
            sampled: settings
                .sampler
                .sample(Some(lineage.sampled), lineage.trace_id),
            ..lineage
        },
        None => match attrs.is_contextual().then(handoff::remote_parent).flatten() {
            Some(remote) => Lineage {
                trace_id: remote.trace_id(),
                parent_span_id: Some(remote.span_id()),
                parent_is_remote: true,
                exported_parent: Some((remote.span_id(), true)),
                sampled: settings
                    .sampler
                    .sample(Some(remote.is_sampled()), remote.trace_id()),
                random_trace_id: remote.is_random(),
                tracestate: remote.tracestate_shared(),
            },
            None => {
                let trace_id = new_trace_id();
                Lineage {
                    trace_id,
                    parent_span_id: None,
                    parent_is_remote: false,
                    exported_parent: None,
                    sampled: settings.sampler.sample(None, trace_id),
                    // Every bit of a new trace id is random (see `new_trace_id`).
                    random_trace_id: true,
                    tracestate: None,
                }
            }
        },
    };
    let mut record = SpanRecord::new(
        attrs.metadata(),
        lineage,
        new_span_id(),
        signals,
        settings.owner,
    );
    record.stands_aside = settings.exports_traces && !signals.contains(Signal::Traces);
    attrs.record(&mut FieldValues(
        |field: &tracing_core::field::Field, value| record.set(field, value),
    ));
    handoff::pending_links(|causes| {
        for cause in causes {
            if let Some(link) = link_to(ctx, cause) {
                record.add_link(link, settings.link_limit);
            }
        }
    });
    record
}

/// The link to the span with this id, when it is live and has a record.
pub(crate) fn link_to<S>(ctx: &Context<'_, S>, id: &Id) -> Option<Link>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let span = ctx.span(id)?;
    let extensions = span.extensions();
    let record = extensions.get::<SpanRecord>()?;
    Some(Link {
        trace_id: record.trace_id,
        span_id: record.propagated_span_id(),
    })
}
