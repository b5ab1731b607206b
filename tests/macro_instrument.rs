//! `#[observe]` emits the span instrumentation itself (not `#[tracing::instrument]`), so it
//! owns the `#[instrument]` options' semantics. These tests compile the same functions
//! twice, once under `#[tracing::instrument(..)]` and once under `#[observe(..)]`, run the
//! same calls on each and compare what a capturing layer saw — span names, levels, targets,
//! declared and recorded fields (minus observe's own `metric_*`, `observe.*`, `otel.*`),
//! parents, `follows_from` edges, the `err` / `ret` events (level, target, fields, and that
//! they are inside the span) — then check a few things directly.

// Public fixtures: the macros are exercised on public items, as users write them.
#![allow(missing_docs)]

#[path = "support/capture.rs"]
mod capture;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use capture::{Captured, capture, capture_filtered};
use tracing::Level;

#[derive(Debug, Clone)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[derive(Debug)]
pub struct Wrapper(pub u8);

#[derive(Debug)]
pub struct Failure;

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("it failed")
    }
}

pub const KEY: &str = "computed.key";

/// Evaluations of `fields(evaluated = bump())`.
static EVALUATED: AtomicUsize = AtomicUsize::new(0);

pub fn bump() -> usize {
    EVALUATED.fetch_add(1, Ordering::SeqCst) + 1
}

/// The same items in `mod instrument` (under `#[tracing::instrument]`) and `mod observe`
/// (under `#[observe::observe]`), each with a `scenario()` that calls them.
macro_rules! twice {
    ($($item:tt)*) => {
        #[allow(clippy::all, unused_variables, dead_code)]
        mod instrument {
            use super::*;
            use tracing::instrument as attr;
            $($item)*
        }
        #[allow(clippy::all, unused_variables, dead_code)]
        mod observe {
            use super::*;
            use ::observe::observe as attr;
            $($item)*
        }
    };
}

twice! {
    #[attr]
    pub(crate) fn args(
        a: u32,
        s: &str,
        owned: String,
        v: Vec<u8>,
        o: Option<i64>,
        r: &mut u64,
        w: std::num::Wrapping<u8>,
        nz: std::num::NonZeroU32,
        f: f64,
        b: bool,
        p: &Point,
    ) -> usize {
        *r += 1;
        s.len()
    }

    #[attr]
    pub(crate) fn patterns(
        Point { x, y: why }: Point,
        (a, _b): (u8, u8),
        &c: &u32,
        Wrapper(w): Wrapper,
        _: u8,
        mut m: u8,
    ) -> i32 {
        m += 1;
        x + why + a as i32 + c as i32 + w as i32 + m as i32
    }

    #[attr(skip(s, v))]
    pub(crate) fn skipped(a: u32, s: &str, v: Vec<u8>) {}

    #[attr(skip_all)]
    pub(crate) fn skipped_all(a: u32, s: &str) {}

    #[attr(fields(a = a * 2, %shown = a, ?dbg = s, empty, dotted.name = "d", r#type = "t",
                  {KEY} = 5, %s))]
    pub(crate) fn with_fields(a: u32, s: &str) {
        tracing::Span::current().record("empty", 9);
    }

    #[derive(Debug)]
    pub(crate) struct Svc {
        pub name: &'static str,
    }

    impl Svc {
        #[attr]
        pub(crate) fn method(&self, n: u8) {}

        #[attr(skip(self))]
        pub(crate) fn method_skip(&self, n: u8) {}

        #[attr]
        pub(crate) fn consume(self) {}

        #[attr(err, ret)]
        pub(crate) async fn lookup(&self, key: &str) -> Result<usize, Failure> {
            tokio::task::yield_now().await;
            if key.is_empty() {
                return Err(Failure);
            }
            Ok(key.len())
        }
    }

    #[attr(name = "custom.span", target = "custom_target", level = "debug")]
    pub(crate) fn renamed() {}

    #[attr("bare.name", level = "debug")]
    pub(crate) fn bare_name() {}

    #[attr(ret, "bare.last")]
    pub(crate) fn bare_name_last() -> u8 {
        1
    }

    #[attr(err)]
    pub(crate) fn err_display(fail: bool) -> Result<u8, Failure> {
        if fail { Err(Failure) } else { Ok(1) }
    }

    #[attr(err(Debug))]
    pub(crate) fn err_debug(fail: bool) -> Result<u8, Failure> {
        if fail { Err(Failure) } else { Ok(1) }
    }

    #[attr(err(level = "warn"), target = "err_target")]
    pub(crate) fn err_level(fail: bool) -> Result<u8, Failure> {
        if fail { Err(Failure) } else { Ok(1) }
    }

    #[attr(ret)]
    pub(crate) fn ret_plain(n: u8) -> u8 {
        if n > 5 {
            return 10;
        }
        n
    }

    #[attr(ret(Display), level = "warn")]
    pub(crate) fn ret_display(n: u8) -> u8 {
        n + 1
    }

    #[attr(ret(level = "debug"), err(level = 4, Debug))]
    pub(crate) fn ret_and_err(fail: bool) -> Result<u8, Failure> {
        let value: Result<u8, Failure> = if fail { Err(Failure) } else { Ok(3) };
        let v = value?;
        Ok(v)
    }

    #[attr(ret)]
    pub(crate) fn ret_result(fail: bool) -> Result<u8, Failure> {
        if fail { Err(Failure) } else { Ok(4) }
    }

    #[attr(parent = None)]
    pub(crate) fn root() {}

    #[attr(parent = parent.id(), skip(parent))]
    pub(crate) fn explicit_parent(parent: &tracing::Span) {}

    #[attr(follows_from = causes.iter().map(|s| s.id()), skip(causes))]
    pub(crate) fn follower(causes: &[tracing::Span]) {}

    #[attr(err, ret, fields(attempt = n))]
    pub(crate) async fn fetch(n: u32) -> Result<u32, Failure> {
        tokio::task::yield_now().await;
        if n == 0 {
            return Err(Failure);
        }
        Ok(n * 2)
    }

    #[async_trait::async_trait]
    pub(crate) trait Store {
        async fn get(&self, key: &str) -> Result<u32, Failure>;
    }

    #[async_trait::async_trait]
    impl Store for Svc {
        #[attr(err, ret)]
        async fn get(&self, key: &str) -> Result<u32, Failure> {
            tokio::task::yield_now().await;
            if key.is_empty() {
                return Err(Failure);
            }
            Ok(key.len() as u32)
        }
    }

    #[attr(level = "trace", fields(evaluated = bump()))]
    pub(crate) fn trace_level() {}

    #[attr(target = "dropped_target", fields(evaluated = bump()))]
    pub(crate) fn dropped_target() {}

    #[attr(fields(evaluated = bump()))]
    pub(crate) fn evaluated() {}

    pub(crate) fn scenario_filtered() {
        trace_level();
        dropped_target();
        evaluated();
    }

    pub(crate) fn scenario() {
        let mut r = 0;
        args(1, "str", "owned".into(), vec![1, 2], Some(-3), &mut r, std::num::Wrapping(7),
             std::num::NonZeroU32::new(8).unwrap(), 1.5, true, &Point { x: 1, y: 2 });
        patterns(Point { x: 1, y: 2 }, (3, 4), &5, Wrapper(6), 7, 8);
        skipped(1, "s", vec![1]);
        skipped_all(1, "s");
        with_fields(3, "text");
        let svc = Svc { name: "svc" };
        svc.method(1);
        svc.method_skip(2);
        renamed();
        bare_name();
        bare_name_last();
        let _ = err_display(false);
        let _ = err_display(true);
        let _ = err_debug(true);
        let _ = err_level(true);
        ret_plain(3);
        ret_plain(9);
        ret_display(4);
        let _ = ret_and_err(false);
        let _ = ret_and_err(true);
        let _ = ret_result(false);
        let _ = ret_result(true);
        {
            let outer = tracing::info_span!("outer");
            let _entered = outer.enter();
            root();
            let other = tracing::info_span!("other");
            explicit_parent(&other);
            follower(&[tracing::info_span!("cause.a"), tracing::info_span!("cause.b")]);
        }
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let _ = fetch(2).await;
            let _ = fetch(0).await;
            let _ = svc.lookup("ab").await;
            let _ = svc.lookup("").await;
            let _ = svc.get("abc").await;
            let _ = svc.get("").await;
            let store: &dyn Store = &svc;
            let _ = store.get("x").await;
        });
        svc.consume();
    }
}

/// An event: level, target, fields.
type EventShape = (Level, String, Vec<(String, String)>);

/// What the comparison looks at, per span, in creation order.
#[derive(Debug, PartialEq)]
struct Shape {
    name: String,
    level: Level,
    target: String,
    declared: Vec<String>,
    fields: Vec<(String, String)>,
    parent: Option<String>,
    follows_from: Vec<String>,
    events: Vec<EventShape>,
    closed: bool,
}

fn observe_own(field: &str) -> bool {
    field.starts_with("metric_") || field.starts_with("observe.") || field.starts_with("otel.")
}

fn shapes(cap: &Captured) -> Vec<Shape> {
    let spans = cap.spans();
    let name_of = |id: u64| spans.iter().find(|s| s.id == id).map(|s| s.name.clone());
    let target = |t: &str| t.replace("macro_instrument::instrument", "macro_instrument::observe");
    let fields = |f: &capture::Fields| {
        f.0.iter()
            .filter(|(k, _)| !observe_own(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    spans
        .iter()
        .map(|s| Shape {
            name: s.name.clone(),
            level: s.level,
            target: target(&s.target),
            declared: s
                .declared
                .iter()
                .filter(|f| !observe_own(f))
                .cloned()
                .collect(),
            fields: fields(&s.fields),
            parent: s.parent.and_then(name_of),
            follows_from: s
                .follows_from
                .iter()
                .filter_map(|&id| name_of(id))
                .collect(),
            events: s
                .events
                .iter()
                .map(|e| (e.level, target(&e.target), fields(&e.fields)))
                .collect(),
            closed: s.closed,
        })
        .collect()
}

#[test]
fn observe_records_what_instrument_records() {
    let ((), by_instrument) = capture(instrument::scenario);
    let ((), by_observe) = capture(observe::scenario);
    let (expected, actual) = (shapes(&by_instrument), shapes(&by_observe));
    assert_eq!(expected.len(), actual.len(), "{expected:#?}\n{actual:#?}");
    for (e, a) in expected.iter().zip(&actual) {
        assert_eq!(e, a);
    }
}

/// The comparison above would pass if both recorded nothing; spot-check the observe side.
#[test]
fn arguments_fields_and_events_as_documented() {
    let ((), cap) = capture(observe::scenario);
    let args = cap.span("args");
    assert_eq!(
        args.declared,
        ["a", "s", "owned", "v", "o", "r", "w", "nz", "f", "b", "p"]
            .iter()
            .chain(&[
                "metric_name",
                "metric_label_function",
                "metric_label_module",
                "observe.result",
                "otel.status_code",
            ])
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    // `Value` types as values (a `&str` is not quoted), the rest with `Debug`.
    assert_eq!(args.field("s"), Some("str"));
    assert_eq!(args.field("owned"), Some("owned"));
    assert_eq!(args.field("v"), Some("[1, 2]"));
    assert_eq!(args.field("o"), Some("Some(-3)"));
    assert_eq!(args.field("p"), Some("Point { x: 1, y: 2 }"));

    let patterns = cap.span("patterns");
    for (k, v) in [
        ("x", "1"),
        ("why", "2"),
        ("a", "3"),
        ("_b", "4"),
        ("c", "5"),
    ] {
        assert_eq!(patterns.field(k), Some(v), "{patterns:#?}");
    }
    assert_eq!(patterns.field("w"), Some("6"));
    assert_eq!(
        patterns.field("m"),
        Some("8"),
        "recorded before the body runs"
    );

    let skipped = cap.span("skipped");
    assert_eq!(skipped.field("a"), Some("1"));
    assert!(!skipped.declared.contains(&"s".to_owned()));
    assert!(cap.span("skipped_all").declared[0].starts_with("metric_"));

    let with_fields = cap.span("with_fields");
    assert_eq!(
        with_fields.field("a"),
        Some("6"),
        "the field replaces the argument"
    );
    assert_eq!(with_fields.field("shown"), Some("3"));
    assert_eq!(with_fields.field("dbg"), Some("\"text\""));
    assert_eq!(
        with_fields.field("empty"),
        Some("9"),
        "declared empty, recorded later"
    );
    assert_eq!(with_fields.field("dotted.name"), Some("d"));
    assert_eq!(with_fields.field("type"), Some("t"));
    assert_eq!(with_fields.field("computed.key"), Some("5"));
    assert_eq!(with_fields.field("s"), Some("text"));

    let method = cap.span("method");
    assert_eq!(method.field("self"), Some("Svc { name: \"svc\" }"));
    assert_eq!(cap.span("method_skip").field("self"), None);

    assert_eq!(cap.span("bare.name").level, Level::DEBUG);
    assert_eq!(cap.span("bare.last").events.len(), 1);

    let renamed = cap.span("custom.span");
    assert_eq!(
        (renamed.level, renamed.target.as_str()),
        (Level::DEBUG, "custom_target")
    );

    let spans = cap.spans();
    let named = |name: &'static str| spans.iter().filter(move |s| s.name == name);
    let events =
        |name: &'static str| -> Vec<_> { named(name).flat_map(|s| s.events.clone()).collect() };

    let err = events("err_display");
    assert_eq!(err.len(), 1, "no event for Ok without `ret`");
    assert_eq!(err[0].level, Level::ERROR);
    assert_eq!(err[0].target, "macro_instrument::observe");
    assert_eq!(err[0].fields.get("error"), Some("it failed"));
    assert_eq!(events("err_debug")[0].fields.get("error"), Some("Failure"));
    let err_level = &events("err_level")[0];
    assert_eq!(
        (err_level.level, err_level.target.as_str()),
        (Level::WARN, "err_target")
    );

    let ret = events("ret_plain");
    assert_eq!(ret[0].level, Level::INFO);
    assert_eq!(ret[0].fields.get("return"), Some("3"));
    assert_eq!(ret[1].fields.get("return"), Some("10"), "early return");
    let ret_display = &events("ret_display")[0];
    assert_eq!(ret_display.level, Level::WARN, "the span's level");
    let both = events("ret_and_err");
    assert_eq!(
        (both[0].level, both[0].fields.get("return")),
        (Level::DEBUG, Some("3"))
    );
    assert_eq!(
        (both[1].level, both[1].fields.get("error")),
        (Level::WARN, Some("Failure"))
    );
    let whole = events("ret_result");
    assert_eq!(whole[0].fields.get("return"), Some("Ok(4)"));
    assert_eq!(whole[1].fields.get("return"), Some("Err(Failure)"));

    assert_eq!(cap.span("root").parent, None);
    assert_eq!(
        cap.span("explicit_parent").parent,
        Some(cap.span("other").id)
    );
    let follower = cap.span("follower");
    assert_eq!(follower.parent, Some(cap.span("outer").id));
    assert_eq!(
        follower.follows_from,
        vec![cap.span("cause.a").id, cap.span("cause.b").id]
    );

    let fetch = events("fetch");
    assert_eq!(fetch[0].fields.get("return"), Some("4"));
    assert_eq!(fetch[1].fields.get("error"), Some("it failed"));
    assert_eq!(named("fetch").next().unwrap().field("n"), Some("2"));
    let gets: Vec<_> = named("get").collect();
    assert_eq!(gets.len(), 3);
    assert_eq!(gets[0].field("key"), Some("abc"));
    assert_eq!(gets[0].field("self"), Some("Svc { name: \"svc\" }"));
    assert_eq!(gets[1].events[0].fields.get("error"), Some("it failed"));
}

/// Field values are evaluated only for an enabled span, as with `tracing::span!`: not when
/// the level is filtered out, nor when the subscriber disables the callsite.
#[test]
fn field_values_are_evaluated_only_for_enabled_spans() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    for (name, run) in [
        ("instrument", instrument::scenario_filtered as fn()),
        ("observe", observe::scenario_filtered),
    ] {
        EVALUATED.store(0, Ordering::SeqCst);
        let filter = Targets::new()
            .with_default(LevelFilter::DEBUG)
            .with_target("dropped_target", LevelFilter::OFF);
        let ((), cap) = capture_filtered(filter, run);
        assert_eq!(EVALUATED.load(Ordering::SeqCst), 1, "{name}");
        let names: Vec<_> = cap.spans().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["evaluated"], "{name}");
    }
}
