use std::time::Duration;

use tracing::Dispatch;
use tracing_core::Subscriber;
use tracing_core::span::Id;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use super::*;
use crate::Signals;
use crate::filter::SignalFilter;
use crate::log::LogOutput;
use crate::log::writer::MemorySink;
use crate::propagation::TraceContext;
use crate::value::FieldValue;

/// Runs `body` under a registry with `layer`, then hands `inspect` the record of the span
/// `body` returned, looked up before the span closes.
fn record_of(dispatch: &Dispatch, span: &tracing::Span) -> SpanRecordView {
    let registry = dispatch.downcast_ref::<Registry>().expect("a registry");
    let span_ref = registry
        .span(&span.id().expect("an enabled span"))
        .expect("a live span");
    with_record(&span_ref, |record| SpanRecordView {
        trace_id: record.trace_id(),
        span_id: record.span_id(),
        parent_span_id: record.parent_span_id(),
        parent_is_remote: record.is_parent_remote(),
        sampled: record.is_sampled(),
        fields: record
            .fields()
            .iter()
            .map(|f| (f.name, f.value.clone()))
            .collect(),
        links: record.links().to_vec(),
        outcome: record.outcome(),
    })
    .expect("a record")
}

#[derive(Debug)]
struct SpanRecordView {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    parent_is_remote: bool,
    sampled: bool,
    fields: Vec<(&'static str, FieldValue)>,
    links: Vec<Link>,
    outcome: Outcome,
}

/// A layer that keeps a record of every span (logs into memory, nothing filtered).
fn signals(sampler: Sampler) -> Signals {
    Signals::builder()
        .logs(LogOutput::new(MemorySink::new()), SignalFilter::all())
        .sampler(sampler)
        .build()
}

fn context_dispatch() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(signals(Sampler::default())))
}

fn scope_of(dispatch: &Dispatch, span: &tracing::Span) -> Vec<(&'static str, String)> {
    let registry = dispatch.downcast_ref::<Registry>().unwrap();
    let span_ref = registry.span(&span.id().unwrap()).unwrap();
    let mut out = Vec::new();
    visit_scope(&span_ref, &mut Vec::new(), |f| {
        out.push((f.name, f.value.to_string()))
    });
    out
}

#[test]
fn numbers_and_booleans_keep_their_type() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("typed", n = -3_i64, u = 7_u64, f = 0.5, b = true, s = "x", d = ?vec![1]);
        let view = record_of(&dispatch, &span);
        assert_eq!(
            view.fields,
            vec![
                ("n", FieldValue::I64(-3)),
                ("u", FieldValue::U64(7)),
                ("f", FieldValue::F64(0.5)),
                ("b", FieldValue::Bool(true)),
                ("s", FieldValue::Str("x".into())),
                ("d", FieldValue::Str("[1]".into())),
            ]
        );
    });
}

#[test]
fn record_updates_in_declaration_order() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("late", first = tracing::field::Empty, second = 2_u64);
        span.record("first", "now");
        span.record("second", 3_u64);
        let view = record_of(&dispatch, &span);
        assert_eq!(
            view.fields,
            vec![
                ("first", FieldValue::Str("now".into())),
                ("second", FieldValue::U64(3))
            ]
        );
    });
}

#[test]
fn children_inherit_context_nearest_first_but_not_span_local_fields() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let request = tracing::info_span!(
            "request",
            request_id = "r-1",
            user = "ada",
            metric_name = "http",
            otel.kind = "server",
            error = tracing::field::Empty
        );
        let query =
            request.in_scope(|| tracing::info_span!("query", user = "bob", table = "songs"));
        let leaf = query.in_scope(|| tracing::info_span!("leaf"));
        assert_eq!(
            scope_of(&dispatch, &leaf),
            [
                ("user", "bob".to_string()),
                ("table", "songs".to_string()),
                ("request_id", "r-1".to_string()),
            ]
        );
        // A field recorded on the parent later is seen by the child at once.
        request.record("error", "boom");
        assert!(
            !scope_of(&dispatch, &leaf)
                .iter()
                .any(|(name, _)| *name == "error")
        );
        assert_eq!(
            scope_of(&dispatch, &request)[0],
            ("request_id", "r-1".to_string())
        );
    });
}

#[test]
fn children_share_the_trace_and_point_at_their_parent() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        let child = root.in_scope(|| tracing::info_span!("child"));
        let other = tracing::info_span!("other");
        let (root, child, other) = (
            record_of(&dispatch, &root),
            record_of(&dispatch, &child),
            record_of(&dispatch, &other),
        );
        assert_eq!(child.trace_id, root.trace_id);
        assert_eq!(child.parent_span_id, Some(root.span_id));
        assert_eq!(root.parent_span_id, None);
        assert_ne!(other.trace_id, root.trace_id);
        assert_ne!(child.span_id, root.span_id);
    });
}

#[test]
fn outcome_follows_error_signals() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let ok = tracing::info_span!("ok");
        ok.in_scope(|| tracing::warn!("only a warning"));
        assert_eq!(record_of(&dispatch, &ok).outcome, Outcome::Ok);

        // An ERROR event is a log line, not the call's outcome (which is its result).
        let event = tracing::info_span!("event");
        event.in_scope(|| tracing::error!("it broke"));
        assert_eq!(record_of(&dispatch, &event).outcome, Outcome::Ok);

        let field = tracing::info_span!("field", error = "bad input");
        assert_eq!(record_of(&dispatch, &field).outcome, Outcome::Error);

        let recorded = tracing::info_span!("recorded", observe.result = tracing::field::Empty);
        recorded.record("observe.result", "error");
        assert_eq!(record_of(&dispatch, &recorded).outcome, Outcome::Error);

        let panicked = tracing::info_span!("panicked", observe.result = tracing::field::Empty);
        panicked.record("observe.result", "panic");
        assert_eq!(record_of(&dispatch, &panicked).outcome, Outcome::Error);

        let cancelled = tracing::info_span!("cancelled", observe.result = tracing::field::Empty);
        cancelled.record("observe.result", "cancelled");
        assert_eq!(record_of(&dispatch, &cancelled).outcome, Outcome::Cancelled);

        let status = tracing::info_span!("status", otel.status_code = tracing::field::Empty);
        status.record("otel.status_code", "ERROR");
        assert_eq!(record_of(&dispatch, &status).outcome, Outcome::Error);

        // A failed child does not fail its parent.
        let parent = tracing::info_span!("parent");
        parent.in_scope(|| tracing::info_span!("child", error = "deep").in_scope(|| {}));
        assert_eq!(record_of(&dispatch, &parent).outcome, Outcome::Ok);
    });
}

/// A layer that reads the latency a record reports at close (after the `Signals` layer
/// below it closed the record).
struct LatencyProbe(std::sync::Arc<std::sync::Mutex<Vec<Duration>>>);

impl<S> Layer<S> for LatencyProbe
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let latency = with_record(&span, |record| record.latency().unwrap()).unwrap();
        self.0.lock().unwrap().push(latency);
    }
}

#[test]
fn latency_runs_from_creation_to_close() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry()
        .with(signals(Sampler::default()))
        .with(LatencyProbe(seen.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("slow");
        std::thread::sleep(Duration::from_millis(20));
        drop(span);
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0] >= Duration::from_millis(20), "{:?}", seen[0]);
    assert!(seen[0] < Duration::from_secs(5), "{:?}", seen[0]);
}

#[test]
fn a_root_span_continues_a_handed_over_caller() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let caller = TraceContext::from_w3c(
            ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"],
            ["vendor=1"],
        )
        .unwrap();
        let root = caller.in_scope(|| tracing::info_span!("request"));
        let child = root.in_scope(|| tracing::info_span!("query"));
        let (root_view, child_view) = (record_of(&dispatch, &root), record_of(&dispatch, &child));
        assert_eq!(root_view.trace_id, caller.trace_id());
        assert_eq!(root_view.parent_span_id, Some(caller.span_id()));
        assert!(root_view.parent_is_remote && !child_view.parent_is_remote);
        assert!(
            !root_view.sampled && !child_view.sampled,
            "the caller's flag, kept"
        );
        assert_eq!(child_view.trace_id, caller.trace_id());
        let propagated = child.in_scope(TraceContext::current).unwrap();
        assert_eq!(propagated.tracestate(), Some("vendor=1"));

        // Outside the hand-over, and for spans with a local parent, nothing changes.
        let other = tracing::info_span!("other");
        assert_ne!(record_of(&dispatch, &other).trace_id, caller.trace_id());
        let explicit_root =
            root.in_scope(|| caller.in_scope(|| tracing::info_span!(parent: None, "detached")));
        assert_ne!(
            record_of(&dispatch, &explicit_root).trace_id,
            caller.trace_id()
        );
    });
}

#[test]
fn links_are_known_when_the_span_is_made_and_kept_once() {
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let cause = tracing::info_span!("request");
        let task = with_links(cause.id(), || tracing::info_span!(parent: None, "task"));
        task.follows_from(&cause);
        let (cause_view, task_view) = (record_of(&dispatch, &cause), record_of(&dispatch, &task));
        assert_eq!(
            task_view.links,
            [Link {
                trace_id: cause_view.trace_id,
                span_id: cause_view.span_id
            }]
        );
        assert_ne!(task_view.trace_id, cause_view.trace_id, "a new trace");
        // Only the span made inside `with_links` is linked.
        let after = tracing::info_span!("after");
        assert!(record_of(&dispatch, &after).links.is_empty());
    });
}

#[test]
fn the_sampler_decides_roots_and_children_follow() {
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(signals(Sampler::ParentBasedAlwaysOff)));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        let child = root.in_scope(|| tracing::info_span!("child"));
        assert!(!record_of(&dispatch, &root).sampled);
        assert!(!record_of(&dispatch, &child).sampled);
    });
    let dispatch = context_dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        assert!(record_of(&dispatch, &root).sampled);
    });
}
