//! What `#[observe]` and `observe_async!` record, per function form, observed with a
//! capturing layer (tests/support/capture.rs).

#[path = "support/capture.rs"]
mod capture;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use capture::{CapturedSpan, capture, capture_async};
use observe::{observe, observe_async};
use tracing::Level;

#[derive(Debug, PartialEq)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it failed")
    }
}

fn assert_ok(span: &CapturedSpan) {
    assert_eq!(span.field("observe.result"), None, "{span:#?}");
    assert_eq!(span.field("otel.status_code"), None, "{span:#?}");
    assert!(span.declared.contains(&"observe.result".to_owned()));
    assert!(span.declared.contains(&"otel.status_code".to_owned()));
    assert!(span.closed, "{span:#?}");
}

fn assert_error(span: &CapturedSpan) {
    assert_eq!(span.field("observe.result"), Some("error"), "{span:#?}");
    assert_eq!(span.field("otel.status_code"), Some("ERROR"), "{span:#?}");
    assert!(span.closed, "{span:#?}");
}

fn assert_panicked(span: &CapturedSpan) {
    assert_eq!(span.field("observe.result"), Some("panic"), "{span:#?}");
    assert_eq!(span.field("otel.status_code"), Some("ERROR"), "{span:#?}");
    assert!(span.closed, "{span:#?}");
}

// ---- free functions, default metric ----

#[observe]
fn plain(x: u32) -> u32 {
    x + 1
}

#[test]
fn free_fn_default_metric() {
    let (r, cap) = capture(|| plain(1));
    assert_eq!(r, 2);
    let span = cap.span("plain");
    assert_eq!(span.level, Level::INFO);
    assert_eq!(span.target, module_path!());
    assert_eq!(span.field("metric_name"), Some("function_calls"));
    assert_eq!(span.field("metric_label_function"), Some("plain"));
    assert_eq!(span.field("metric_label_module"), Some(module_path!()));
    assert_eq!(span.field("x"), Some("1"));
    assert_eq!(span.parent, None);
    assert_ok(&span);
}

// ---- metric, labels of each kind, otel_kind, err/ret events ----

#[derive(Debug)]
struct Kind(&'static str);

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kind-{}", self.0)
    }
}

#[observe(
    metric = "db_event",
    labels(table = table, kind = %kind, dbg = ?kind, fixed = "lit"),
    otel_kind = "client",
    level = "debug",
    err,
    ret
)]
fn save(table: &str, kind: &Kind, fail: bool) -> Result<u32, Failure> {
    if fail {
        return Err(Failure);
    }
    Ok(7)
}

#[test]
fn labels_kinds_and_events() {
    let (_, cap) = capture(|| {
        assert_eq!(save("events", &Kind("song"), false).unwrap(), 7);
        assert!(save("events", &Kind("song"), true).is_err());
    });
    let spans: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "save")
        .collect();
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(span.level, Level::DEBUG);
        assert_eq!(span.field("metric_name"), Some("db_event"));
        assert_eq!(span.field("metric_label_table"), Some("events"));
        assert_eq!(span.field("metric_label_kind"), Some("kind-song"));
        assert_eq!(span.field("metric_label_dbg"), Some("Kind(\"song\")"));
        assert_eq!(span.field("metric_label_fixed"), Some("lit"));
        assert_eq!(span.field("metric_label_function"), None);
        assert_eq!(span.field("otel.kind"), Some("client"));
    }
    assert_ok(&spans[0]);
    let ret = &spans[0].events[0];
    assert_eq!(ret.level, Level::DEBUG);
    assert_eq!(ret.fields.get("return"), Some("7"));
    assert_error(&spans[1]);
    let err = &spans[1].events[0];
    assert_eq!(err.level, Level::ERROR);
    assert_eq!(err.fields.get("error"), Some("it failed"));
}

// ---- Err without `err`, `?`, panics ----

fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
    s.parse()
}

#[observe]
fn question_mark(s: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let n = parse(s)?;
    if n == 0 {
        return Ok(100);
    }
    Ok(n * 2)
}

#[test]
fn err_without_err_option_and_early_return() {
    let (_, cap) = capture(|| {
        assert_eq!(question_mark("0").unwrap(), 100);
        assert_eq!(question_mark("2").unwrap(), 4);
        assert!(question_mark("x").is_err());
    });
    let spans: Vec<_> = cap.spans();
    assert_eq!(spans.len(), 3);
    assert_ok(&spans[0]);
    assert_ok(&spans[1]);
    assert_error(&spans[2]);
    assert!(spans[2].events.is_empty(), "no `err` option, no event");
}

/// A user macro may hide a `return`: the body then runs in a closure, so the error is seen.
macro_rules! fail_early {
    ($e:expr) => {
        return Err($e)
    };
}

#[observe]
fn via_macro(fail: bool) -> Result<u8, Failure> {
    if fail {
        fail_early!(Failure);
    }
    Ok(1)
}

/// No `return`, `?` or unknown macro: the body runs in a plain block.
#[observe]
fn plain_block(fail: bool) -> Result<u8, Failure> {
    tracing::info!(fail, "deciding");
    if fail { Err(Failure) } else { Ok(1) }
}

#[test]
fn early_return_from_a_macro_and_plain_blocks() {
    let (_, cap) = capture(|| {
        assert!(via_macro(false).is_ok());
        assert!(via_macro(true).is_err());
        assert!(plain_block(false).is_ok());
        assert!(plain_block(true).is_err());
    });
    let spans = cap.spans();
    assert_ok(&spans[0]);
    assert_error(&spans[1]);
    assert_ok(&spans[2]);
    assert_error(&spans[3]);
    assert_eq!(spans[3].events.len(), 1, "the event is inside the span");
}

#[observe]
fn panics(p: bool) -> u32 {
    if p {
        panic!("boom");
    }
    1
}

#[test]
fn panic_is_recorded_and_the_span_closes() {
    let (_, cap) = capture(|| {
        assert!(catch_unwind(|| panics(true)).is_err());
    });
    assert_panicked(&cap.span("panics"));
}

/// A callee whose span is filtered out must not mark its caller's span failed.
#[observe(level = "trace")]
fn filtered_callee() -> Result<(), Failure> {
    Err(Failure)
}

#[observe]
fn caller_handles_error() -> u32 {
    filtered_callee().map(|_| 1).unwrap_or(0)
}

#[test]
fn disabled_callee_does_not_mark_caller() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let captured = capture::Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(capture::CaptureLayer(captured.clone()))
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    tracing::subscriber::with_default(subscriber, || assert_eq!(caller_handles_error(), 0));
    assert_ok(&captured.span("caller_handles_error"));
    assert_eq!(captured.spans().len(), 1);
}

/// Two `#[observe]` methods with one name and target (`Backend::get` calls `Cache::get`),
/// the inner one filtered out: its `Err`, handled by the outer call, must not mark the
/// outer span (the guard once picked its span by name and target, and found the caller's).
struct Cache;
struct Backend {
    cache: Cache,
}

impl Cache {
    #[observe(level = "debug")]
    fn get(&self, key: &str) -> Result<u32, Failure> {
        if key.is_empty() { Err(Failure) } else { Ok(1) }
    }

    #[observe(level = "debug")]
    async fn fetch(&self, key: &str) -> Result<u32, Failure> {
        tokio::task::yield_now().await;
        self.get(key)
    }
}

impl Backend {
    #[observe]
    fn get(&self, key: &str) -> Result<u32, Failure> {
        Ok(self.cache.get(key).unwrap_or(0))
    }

    #[observe]
    async fn fetch(&self, key: &str) -> Result<u32, Failure> {
        tokio::task::yield_now().await;
        Ok(self.cache.fetch(key).await.unwrap_or(0))
    }
}

fn info_only() -> tracing_subscriber::filter::LevelFilter {
    tracing_subscriber::filter::LevelFilter::INFO
}

#[test]
fn disabled_callee_of_the_same_name_does_not_mark_caller() {
    let store = Backend { cache: Cache };
    let ((), cap) = capture::capture_filtered(info_only(), || {
        assert_eq!(store.get(""), Ok(0));
        assert_eq!(store.get("k"), Ok(1));
    });
    let gets = cap.spans();
    assert_eq!(
        gets.len(),
        2,
        "the `Cache::get` spans are disabled: {gets:#?}"
    );
    gets.iter().for_each(assert_ok);
}

#[test]
fn disabled_async_callee_of_the_same_name_does_not_mark_caller() {
    let store = Backend { cache: Cache };
    let ((), cap) = capture::capture_filtered(info_only(), || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                assert_eq!(store.fetch("").await, Ok(0));
                assert_eq!(store.fetch("k").await, Ok(1));
            })
    });
    let fetches = cap.spans();
    assert_eq!(fetches.len(), 2, "{fetches:#?}");
    fetches.iter().for_each(assert_ok);
}

/// With both enabled, each span gets its own outcome.
#[test]
fn enabled_callee_of_the_same_name_is_marked_alone() {
    let store = Backend { cache: Cache };
    let (_, cap) = capture(|| store.get(""));
    let gets = cap.spans();
    let (outer, inner) = (&gets[0], &gets[1]);
    assert_eq!(inner.parent, Some(outer.id));
    assert_error(inner);
    assert_ok(outer);
}

/// The outcome goes to the dispatcher that made the span, even when the future finishes
/// where another one is the default (a future moved between threads with different
/// thread-local dispatchers, here simulated on one thread).
#[test]
fn outcome_goes_to_the_span_s_own_dispatcher() {
    let mut fut = Box::pin(fetch(true));
    let (first, made) = capture(|| poll_once(&mut fut));
    assert!(first.is_pending());
    let (last, other) = capture(|| poll_once(&mut fut));
    assert!(matches!(last, Poll::Ready(Err(Failure))));
    drop(fut);
    assert_error(&made.span("fetch"));
    assert!(other.spans().is_empty());
}

// ---- arguments without `Debug` ----

/// Not `Debug`.
struct Opaque {
    weight: u32,
}

#[derive(Debug, Clone)]
struct Shown(u8);

impl Opaque {
    #[observe]
    fn by_ref(&self, shown: &Shown, hidden: &Opaque, n: u32) -> u32 {
        self.weight + hidden.weight + u32::from(shown.0) + n
    }

    #[observe(err)]
    async fn by_value(self, shown: Shown) -> Result<u32, Failure> {
        tokio::task::yield_now().await;
        Ok(self.weight + u32::from(shown.0))
    }
}

#[observe]
fn unbounded<T: Clone>(item: T, label: &str) -> T {
    let _ = label;
    item.clone()
}

#[observe]
fn bounded<T: std::fmt::Debug>(item: T) -> T {
    item
}

#[test]
fn arguments_without_debug_are_left_out() {
    let (_, cap) = capture_async(|| async {
        let opaque = Opaque { weight: 1 };
        assert_eq!(opaque.by_ref(&Shown(2), &Opaque { weight: 3 }, 4), 10);
        assert_eq!(opaque.by_value(Shown(5)).await, Ok(6));
        assert_eq!(unbounded(Shown(6), "l").0, 6);
        assert_eq!(bounded(Shown(7)).0, 7);
    });
    let declared_not_recorded = |span: &CapturedSpan, field: &str| {
        assert!(span.declared.iter().any(|f| f == field), "{span:#?}");
        assert_eq!(span.field(field), None, "{span:#?}");
    };
    let by_ref = cap.span("by_ref");
    declared_not_recorded(&by_ref, "self");
    declared_not_recorded(&by_ref, "hidden");
    assert_eq!(by_ref.field("shown"), Some("Shown(2)"));
    assert_eq!(by_ref.field("n"), Some("4"));
    let by_value = cap.span("by_value");
    declared_not_recorded(&by_value, "self");
    assert_eq!(by_value.field("shown"), Some("Shown(5)"));
    assert_ok(&by_value);
    let unbounded = cap.span("unbounded");
    declared_not_recorded(&unbounded, "item");
    assert_eq!(unbounded.field("label"), Some("l"));
    assert_eq!(cap.span("bounded").field("item"), Some("Shown(7)"));
}

// ---- methods, associated fns, generics, impl Trait ----

#[derive(Debug)]
struct Repo {
    table: String,
    count: u32,
}

impl Repo {
    #[observe(labels(table = self.table.as_str()))]
    fn by_ref(&self) -> &str {
        &self.table
    }

    #[observe(skip(self))]
    fn by_mut(&mut self) -> Result<u32, Failure> {
        self.count += 1;
        if self.count > 1 {
            Err(Failure)
        } else {
            Ok(self.count)
        }
    }

    #[observe(skip_all, name = "repo.consume")]
    fn by_value(self) -> String {
        self.table
    }

    #[observe(metric = "repo_new")]
    fn new(table: &str) -> Self {
        Repo {
            table: table.to_owned(),
            count: 0,
        }
    }
}

#[test]
fn methods_and_associated_fns() {
    let (_, cap) = capture(|| {
        let mut repo = Repo::new("events");
        assert_eq!(repo.by_ref(), "events");
        assert_eq!(repo.by_mut().unwrap(), 1);
        assert!(repo.by_mut().is_err());
        assert_eq!(repo.by_value(), "events");
    });
    assert_eq!(cap.span("new").field("metric_name"), Some("repo_new"));
    let by_ref = cap.span("by_ref");
    assert_eq!(by_ref.field("metric_label_table"), Some("events"));
    assert_eq!(by_ref.field("metric_label_function"), Some("by_ref"));
    let muts: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "by_mut")
        .collect();
    assert_eq!(muts[0].field("self"), None, "skipped");
    assert_ok(&muts[0]);
    assert_error(&muts[1]);
    let consume = cap.span("repo.consume");
    assert_eq!(consume.field("metric_label_function"), Some("by_value"));
    assert_ok(&consume);
}

#[observe(fields(len = items.len()))]
fn generic<T: std::fmt::Debug + Clone>(items: &[T]) -> Option<T> {
    items.first().cloned()
}

#[observe]
fn opaque(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[observe]
fn opaque_result(fail: bool) -> Result<impl std::fmt::Display, Failure> {
    if fail { Err(Failure) } else { Ok(5) }
}

#[test]
fn generics_and_impl_trait() {
    let (_, cap) = capture(|| {
        assert_eq!(generic(&[1, 2]), Some(1));
        assert_eq!(opaque(3).count(), 3);
        assert_eq!(opaque_result(false).unwrap().to_string(), "5");
        assert!(opaque_result(true).is_err());
    });
    assert_eq!(cap.span("generic").field("len"), Some("2"));
    assert_ok(&cap.span("opaque"));
    let spans: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "opaque_result")
        .collect();
    assert_ok(&spans[0]);
    assert_error(&spans[1]);
}

// ---- parent / follows_from / target pass-through ----

#[observe(target = "custom", parent = None, follows_from = [cause.id()])]
fn detached(cause: &tracing::Span) {
    let _ = cause;
}

#[test]
fn parent_follows_from_and_target() {
    let (_, cap) = capture(|| {
        let outer = tracing::info_span!("outer");
        let _e = outer.enter();
        detached(&outer);
    });
    let outer = cap.span("outer");
    let span = cap.span("detached");
    assert_eq!(span.target, "custom");
    assert_eq!(span.parent, None);
    assert_eq!(span.follows_from, vec![outer.id]);
}

// ---- async fn ----

#[observe(metric = "fetch", err)]
async fn fetch(fail: bool) -> Result<u32, Failure> {
    tokio::task::yield_now().await;
    if fail {
        return Err(Failure);
    }
    Ok(3)
}

#[test]
fn async_fn_ok_and_err() {
    let (_, cap) = capture_async(|| async {
        assert_eq!(fetch(false).await.unwrap(), 3);
        assert!(fetch(true).await.is_err());
    });
    let spans: Vec<_> = cap.spans();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].field("metric_name"), Some("fetch"));
    assert_ok(&spans[0]);
    assert_error(&spans[1]);
    assert_eq!(spans[1].events.len(), 1);
}

#[observe]
async fn pending_forever() -> u32 {
    std::future::pending::<()>().await;
    1
}

fn poll_once<F: Future>(fut: &mut Pin<Box<F>>) -> Poll<F::Output> {
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn dropped_future_is_cancelled() {
    let (_, cap) = capture(|| {
        let mut fut = Box::pin(pending_forever());
        assert!(poll_once(&mut fut).is_pending());
        drop(fut);
    });
    let span = cap.span("pending_forever");
    assert_eq!(span.field("observe.result"), Some("cancelled"));
    assert_eq!(span.field("otel.status_code"), None);
    assert!(span.closed);
}

#[observe]
async fn async_panics() -> u32 {
    tokio::task::yield_now().await;
    panic!("async boom")
}

#[test]
fn async_panic_is_recorded() {
    let (_, cap) = capture(|| {
        let mut fut = Box::pin(async_panics());
        assert!(poll_once(&mut fut).is_pending());
        assert!(catch_unwind(AssertUnwindSafe(|| poll_once(&mut fut))).is_err());
        drop(fut);
    });
    assert_panicked(&cap.span("async_panics"));
}

// ---- async fn in traits, native and #[async_trait] ----

trait Store {
    fn put(&self, key: &str) -> impl Future<Output = Result<(), Failure>>;
}

#[derive(Debug)]
struct Mem;

impl Store for Mem {
    #[observe(labels(key = key))]
    async fn put(&self, key: &str) -> Result<(), Failure> {
        if key.is_empty() { Err(Failure) } else { Ok(()) }
    }
}

#[async_trait::async_trait]
trait DynStore {
    async fn get(&self, key: &str) -> Result<u32, Failure>;
    async fn hang(&self);
}

#[derive(Debug)]
struct Remote {
    table: &'static str,
}

#[async_trait::async_trait]
impl DynStore for Remote {
    #[observe(metric = "remote_get", labels(table = self.table, key = key), err)]
    async fn get(&self, key: &str) -> Result<u32, Failure> {
        tokio::task::yield_now().await;
        if key.is_empty() {
            return Err(Failure);
        }
        Ok(key.len() as u32)
    }

    #[observe]
    async fn hang(&self) {
        std::future::pending::<()>().await;
    }
}

#[test]
fn async_trait_methods() {
    let (_, cap) = capture_async(|| async {
        Mem.put("k").await.unwrap();
        assert!(Mem.put("").await.is_err());
        let remote = Remote { table: "t" };
        assert_eq!(remote.get("abc").await.unwrap(), 3);
        assert!(remote.get("").await.is_err());
        let store: &dyn DynStore = &remote;
        assert_eq!(store.get("ab").await.unwrap(), 2);
    });
    let puts: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "put")
        .collect();
    assert_eq!(puts[0].field("metric_label_key"), Some("k"));
    assert_ok(&puts[0]);
    assert_error(&puts[1]);
    let gets: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "get")
        .collect();
    assert_eq!(gets.len(), 3);
    assert_eq!(gets[0].field("metric_name"), Some("remote_get"));
    assert_eq!(gets[0].field("metric_label_table"), Some("t"));
    assert_eq!(gets[0].field("metric_label_key"), Some("abc"));
    assert_ok(&gets[0]);
    assert_error(&gets[1]);
    assert_eq!(gets[1].events.len(), 1);
    assert_ok(&gets[2]);
}

#[test]
fn async_trait_cancelled() {
    let (_, cap) = capture(|| {
        let remote = Remote { table: "t" };
        let mut fut = remote.hang();
        assert!(
            fut.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        drop(fut);
    });
    assert_eq!(cap.span("hang").field("observe.result"), Some("cancelled"));
}

// ---- observe_async! ----

async fn work(fail: bool) -> Result<u32, Failure> {
    tracing::info!(step = "inside");
    if fail { Err(Failure) } else { Ok(1) }
}

#[test]
fn observe_async_root_span_follows_spawner() {
    let (_, cap) = capture_async(|| async {
        let spawner = tracing::info_span!("spawner");
        let fut = {
            let _e = spawner.enter();
            observe_async!(
                "songs.process",
                work(false),
                metric = "process",
                labels(queue = "songs"),
                otel_kind = "consumer"
            )
        };
        assert_eq!(fut.await.unwrap(), 1);
        let plain = observe_async!(
            "plain.task",
            work(true),
            fields(attempt = 2u32),
            level = "warn"
        );
        assert!(plain.await.is_err());
    });
    let spawner = cap.span("spawner");
    let task = cap.span("songs.process");
    assert_eq!(task.parent, None);
    assert_eq!(task.follows_from, vec![spawner.id]);
    assert_eq!(task.field("metric_name"), Some("process"));
    assert_eq!(task.field("metric_label_queue"), Some("songs"));
    assert_eq!(task.field("otel.kind"), Some("consumer"));
    assert_eq!(
        task.events.len(),
        1,
        "the event inside the future is in the span"
    );
    assert_ok(&task);
    let plain = cap.span("plain.task");
    assert_eq!(plain.level, Level::WARN);
    assert_eq!(
        plain.field("metric_name"),
        None,
        "no metric unless asked for"
    );
    assert_eq!(plain.field("attempt"), Some("2"));
    assert!(plain.follows_from.is_empty(), "no current span to follow");
    assert_error(&plain);
}

#[test]
fn observe_async_cancelled() {
    let (_, cap) = capture(|| {
        let mut fut = Box::pin(observe_async!("never", std::future::pending::<()>()));
        assert!(poll_once(&mut fut).is_pending());
        drop(fut);
    });
    let span = cap.span("never");
    assert_eq!(span.field("observe.result"), Some("cancelled"));
    assert!(span.closed);
}

/// The span of `observe_async!` exists from the macro on, so a task dropped before it ever
/// ran was cancelled too.
#[test]
fn observe_async_dropped_unpolled_is_cancelled() {
    let (_, cap) = capture(|| drop(observe_async!("unpolled", async { 1 })));
    let span = cap.span("unpolled");
    assert_eq!(span.field("observe.result"), Some("cancelled"));
    assert!(span.closed);
}
