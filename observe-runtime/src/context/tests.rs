use std::time::Duration;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use tracing::Dispatch;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

use super::*;
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
        fields: record
            .fields()
            .iter()
            .map(|f| (f.name, f.value.clone()))
            .collect(),
        outcome: record.outcome(),
    })
    .expect("a record")
}

#[derive(Debug)]
struct SpanRecordView {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    fields: Vec<(&'static str, FieldValue)>,
    outcome: Outcome,
}

fn context_dispatch() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(ContextLayer::new()))
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

        let event = tracing::info_span!("event");
        event.in_scope(|| tracing::error!("it broke"));
        assert_eq!(record_of(&dispatch, &event).outcome, Outcome::Error);

        let field = tracing::info_span!("field", error = "bad input");
        assert_eq!(record_of(&dispatch, &field).outcome, Outcome::Error);

        let recorded = tracing::info_span!("recorded", observe.result = tracing::field::Empty);
        recorded.record("observe.result", "error");
        assert_eq!(record_of(&dispatch, &recorded).outcome, Outcome::Error);

        let cancelled = tracing::info_span!("cancelled", observe.result = tracing::field::Empty);
        cancelled.record("observe.result", "cancelled");
        assert_eq!(record_of(&dispatch, &cancelled).outcome, Outcome::Cancelled);

        let status = tracing::info_span!("status", otel.status_code = tracing::field::Empty);
        status.record("otel.status_code", "ERROR");
        assert_eq!(record_of(&dispatch, &status).outcome, Outcome::Error);

        // An error in a child does not fail its parent.
        let parent = tracing::info_span!("parent");
        parent.in_scope(|| tracing::info_span!("child").in_scope(|| tracing::error!("deep")));
        assert_eq!(record_of(&dispatch, &parent).outcome, Outcome::Ok);
    });
}

/// A layer that reads the latency a record reports at close.
struct LatencyProbe(std::sync::Arc<std::sync::Mutex<Vec<Duration>>>);

impl<S> Layer<S> for LatencyProbe
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let latency = close_record(&span, |record| record.latency().unwrap()).unwrap();
        self.0.lock().unwrap().push(latency);
    }
}

#[test]
fn latency_runs_from_creation_to_close() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
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
fn stacked_stores_keep_one_record() {
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(ContextLayer::new()),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("once", n = tracing::field::Empty);
        span.record("n", 1_u64);
        assert_eq!(
            record_of(&dispatch, &span).fields,
            vec![("n", FieldValue::U64(1))]
        );
    });
}

#[test]
fn otel_ids_are_the_exported_ids() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(ContextLayer::new().with_otel_ids()),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        let child = root.in_scope(|| tracing::info_span!("child"));
        for span in [&root, &child] {
            let view = record_of(&dispatch, span);
            let otel = span.context().span().span_context().clone();
            assert_eq!(view.trace_id, otel.trace_id());
            assert_eq!(view.span_id, otel.span_id());
        }
        assert_eq!(
            record_of(&dispatch, &child).parent_span_id,
            Some(record_of(&dispatch, &root).span_id)
        );
    });
}
