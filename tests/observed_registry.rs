//! The static registry `#[observe]` and `observe_async!` fill
//! (`observe::runtime::observed`): one entry per observed function, present before any
//! call (also for a function never called), with its metric, its labels when they are
//! literals, its objective and `track_concurrency`; found again from a span's metadata;
//! and the `observe.in_flight` marker a tracked span declares and never records.

// Public fixtures: the macros are exercised on public items, as users write them.
#![allow(missing_docs)]

#[path = "support/capture.rs"]
mod capture;

use observe::observe;
use observe::runtime::fields::IN_FLIGHT;
use observe::runtime::observed::{self, Objective, ObservedFn};
use tracing::Metadata;
use tracing::callsite::Callsite as _;

/// The entries whose span is named `name` in this test's module tree.
fn entries(name: &str) -> Vec<&'static ObservedFn> {
    observed::observed_functions()
        .iter()
        .filter(|f| {
            f.metadata().name() == name
                && f.metadata()
                    .module_path()
                    .is_some_and(|m| m.starts_with(module_path!()))
        })
        .collect()
}

fn entry(name: &str) -> &'static ObservedFn {
    match entries(name).as_slice() {
        [one] => one,
        other => panic!("{} entries for {name}: {other:#?}", other.len()),
    }
}

/// The metadata of the span current inside an observed function.
fn current() -> &'static Metadata<'static> {
    tracing::Span::current()
        .metadata()
        .expect("inside the span")
}

#[allow(dead_code)]
#[observe]
fn never_called() {}

#[observe(metric = "db_query", labels(table = "events", shard = 3, hot = true, kind = ?"x"))]
fn literal_labels() -> &'static Metadata<'static> {
    current()
}

#[observe(metric = "db_query", labels(table = table))]
fn argument_label(table: &str) -> &'static Metadata<'static> {
    let _ = table;
    current()
}

#[observe(track_concurrency, objective(name = "api", success = 99.9, latency = ("250ms", 99.0)))]
fn tracked() -> &'static Metadata<'static> {
    current()
}

// Never called: only its registry entry is read, which exists all the same.
#[allow(dead_code)]
#[observe(objective(name = "fast", latency = ("500us", 99.99)))]
async fn fast() -> &'static Metadata<'static> {
    current()
}

#[observe]
fn generic<T: std::fmt::Debug>(value: T) -> &'static Metadata<'static> {
    let _ = value;
    current()
}

pub struct Db;

#[observe(track_concurrency, objective(name = "db", success = 99.0))]
impl Db {
    pub fn get(&self) -> &'static Metadata<'static> {
        current()
    }

    #[observe(metric = "db_put", objective(name = "writes", success = 95.5))]
    pub fn put(&self) -> &'static Metadata<'static> {
        current()
    }

    #[observe(ignore)]
    pub fn ignored(&self) {}
}

/// Runs `f` with a subscriber that enables every span, so `Span::current()` is real.
fn traced<R>(f: impl FnOnce() -> R) -> R {
    capture::capture(f).0
}

#[test]
fn every_observed_function_has_an_entry_before_its_first_call() {
    let never = entry("never_called");
    assert_eq!(never.metric, "function_calls");
    assert_eq!(
        never.labels,
        Some(&[("function", "never_called"), ("module", module_path!())][..])
    );
    assert_eq!(never.objective, None);
    assert!(!never.track_concurrency);
    assert!(
        entries("ignored").is_empty(),
        "an opted-out method has none"
    );
}

#[test]
fn labels_are_known_when_every_value_is_a_literal() {
    assert_eq!(
        entry("literal_labels").labels,
        Some(
            &[
                ("table", "events"),
                ("shard", "3"),
                ("hot", "true"),
                ("kind", "\"x\"")
            ][..]
        )
    );
    assert_eq!(entry("literal_labels").metric, "db_query");
    assert_eq!(entry("argument_label").labels, None);
    assert_eq!(entry("argument_label").metric, "db_query");
}

#[test]
fn literal_labels_match_what_the_metrics_signal_makes() {
    use observe::runtime::metrics::{Metrics, MetricsConfig};
    use tracing_subscriber::layer::SubscriberExt as _;
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    let subscriber = tracing_subscriber::registry().with(metrics.layer());
    tracing::subscriber::with_default(subscriber, literal_labels);
    let labels: Vec<String> = entry("literal_labels")
        .labels
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let series = format!("db_query_total{{{},result=\"ok\"}} 1", labels.join(","));
    let text = metrics.render();
    assert!(text.contains(&series), "{series} in\n{text}");
}

#[test]
fn objectives_and_concurrency_are_registered() {
    let tracked = entry("tracked");
    assert!(tracked.track_concurrency);
    assert_eq!(
        tracked.objective,
        Some(&Objective {
            name: "api",
            success: Some("99.9"),
            latency: Some((0.25, "99")),
        })
    );
    let fast = entry("fast").objective.unwrap();
    assert_eq!(fast.success, None);
    assert_eq!(fast.latency, Some((0.0005, "99.99")));
    assert_eq!(fast.latency.unwrap().0.to_string(), "0.0005");
    // An impl block's options reach each method; a method's own objective replaces them.
    let get = entry("get");
    assert!(get.track_concurrency);
    assert_eq!(get.objective.unwrap().name, "db");
    assert_eq!(get.objective.unwrap().success, Some("99"));
    let put = entry("put");
    assert!(put.track_concurrency);
    assert_eq!(put.metric, "db_put");
    assert_eq!(put.objective.unwrap().name, "writes");
    assert_eq!(put.objective.unwrap().success, Some("95.5"));
}

#[test]
fn entries_are_found_from_a_spans_metadata() {
    let metadata = traced(|| {
        [
            literal_labels(),
            argument_label("t"),
            tracked(),
            generic(1u8),
            generic("two"),
            Db.get(),
            Db.put(),
        ]
    });
    for meta in metadata {
        let found = observed::find(meta).unwrap_or_else(|| panic!("{}", meta.name()));
        assert!(std::ptr::eq(found.metadata(), meta));
    }
    // A generic function has one callsite, so one entry, whatever its instances.
    assert_eq!(entries("generic").len(), 1);
    let unobserved: &'static Metadata<'static> =
        tracing::callsite!(name: "manual", kind: tracing::metadata::Kind::SPAN, fields: [])
            .metadata();
    assert!(observed::find(unobserved).is_none());
}

#[test]
fn track_concurrency_declares_a_marker_field_it_never_records() {
    let ((tracked_meta, get_meta, plain_meta), captured) =
        capture::capture(|| (tracked(), Db.get(), literal_labels()));
    for meta in [tracked_meta, get_meta] {
        assert!(meta.fields().field(IN_FLIGHT).is_some(), "{}", meta.name());
    }
    assert!(plain_meta.fields().field(IN_FLIGHT).is_none());
    for span in captured.spans() {
        assert_eq!(span.field(IN_FLIGHT), None, "never recorded: {span:?}");
    }
}

#[test]
fn observe_async_registers_only_with_a_metric() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (with, without) = traced(|| {
        rt.block_on(async {
            let with = observe::observe_async!(
                "jobs.run",
                async { current() },
                metric = "jobs",
                labels(queue = "songs"),
                track_concurrency,
                objective(name = "jobs", success = 99.5),
            )
            .await;
            let without = observe::observe_async!("jobs.plain", async { current() }).await;
            (with, without)
        })
    });
    let entry = observed::find(with).expect("registered");
    assert_eq!(entry.metric, "jobs");
    assert_eq!(entry.labels, Some(&[("queue", "songs")][..]));
    assert!(entry.track_concurrency);
    assert_eq!(entry.objective.unwrap().success, Some("99.5"));
    assert!(observed::find(without).is_none(), "no metric, no entry");
}
