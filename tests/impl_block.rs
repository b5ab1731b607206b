//! `#[observe]` on `impl` blocks. First differentially: the same methods with the options
//! on the block and with the same options on each method must record the same spans,
//! fields and events. Then directly: a method's own options adding to or overriding the
//! block's, `#[observe(ignore)]` and `const fn` left alone, a trait impl, and
//! `#[async_trait]` impls with `#[observe]` above and below `#[async_trait]`, as the
//! metrics signal (`Metrics::layer()`) and a capturing layer see them.

// Public fixtures: the macros are exercised on public items, as users write them.
#![allow(missing_docs)]

#[path = "support/capture.rs"]
mod capture;

use capture::{Captured, CapturedSpan, block_on, capture_with_metrics as observed};
use observe::observe;
use tracing::Level;

/// The same struct and methods in `mod on_block` (options on the impl) and `mod on_methods`
/// (the same options on each method).
macro_rules! twice {
    (#[observe $opts:tt] impl Db { $(fn $name:ident $sig:tt -> $ret:ty $body:block)* }) => {
        mod on_block {
            use observe::observe;
            pub(crate) struct Db {
                pub table: String,
            }
            #[observe $opts]
            impl Db {
                $(pub(crate) fn $name $sig -> $ret $body)*
            }
        }
        mod on_methods {
            use observe::observe;
            pub(crate) struct Db {
                pub table: String,
            }
            impl Db {
                $(#[observe $opts] pub(crate) fn $name $sig -> $ret $body)*
            }
        }
    };
}

twice! {
    #[observe(metric = "db", labels(table = self.table.as_str()), skip(self), err,
              level = "debug", fields(kind = "sql"), ret)]
    impl Db {
        fn get(&self, key: &str) -> Result<u32, String> {
            if key.is_empty() {
                return Err("empty key".into());
            }
            Ok(key.len() as u32)
        }
        fn put(&mut self, key: &str) -> Result<(), String> {
            self.table.push_str(key);
            Ok(())
        }
    }
}

/// What a span recorded, without its callsite's identity.
fn shape(span: &CapturedSpan) -> String {
    let events: Vec<String> = span
        .events
        .iter()
        .map(|e| format!("{} {:?}", e.level, e.fields.0))
        .collect();
    format!(
        "{} {} declared={:?} fields={:?} events={events:?} closed={}",
        span.name, span.level, span.declared, span.fields.0, span.closed
    )
}

#[test]
fn block_options_mean_what_they_mean_on_each_method() {
    let ((), on_block) = capture::capture(|| {
        let mut db = on_block::Db {
            table: "events".into(),
        };
        let _ = db.get("k");
        let _ = db.get("");
        let _ = db.put("x");
    });
    let ((), on_methods) = capture::capture(|| {
        let mut db = on_methods::Db {
            table: "events".into(),
        };
        let _ = db.get("k");
        let _ = db.get("");
        let _ = db.put("x");
    });
    let block: Vec<String> = on_block.spans().iter().map(shape).collect();
    let methods: Vec<String> = on_methods.spans().iter().map(shape).collect();
    assert_eq!(block.len(), 3, "{block:#?}");
    assert_eq!(block, methods);
}

#[derive(Debug)]
pub struct Store {
    table: String,
}

#[observe(metric = "store", labels(table = self.table.as_str()), skip(self), err)]
impl Store {
    pub const KIND: &'static str = "kv";

    pub fn get(&self, key: &str) -> Result<u32, String> {
        u32::try_from(key.len()).map_err(|e| e.to_string())
    }

    // Its own `labels` merge with the block's (its `table` wins), its `metric` and
    // `level` replace the block's.
    #[observe(
        metric = "store_put",
        labels(op = "put", table = "override"),
        level = "debug"
    )]
    pub fn put(&mut self, key: &str) -> Result<(), String> {
        if key.is_empty() {
            return Err("empty key".into());
        }
        self.table.push_str(key);
        Ok(())
    }

    // No `self`: it gives its own `table`.
    #[observe(labels(table = "none"))]
    pub fn open(name: &str) -> Store {
        Store { table: name.into() }
    }

    #[observe(ignore)]
    pub fn table(&self) -> &str {
        &self.table
    }

    pub const fn version() -> u32 {
        1
    }

    // The block's `err` does not apply: `size` cannot return `Err`.
    pub fn size(&self) -> usize {
        self.table.len()
    }
}

fn names(captured: &Captured) -> Vec<String> {
    captured.spans().into_iter().map(|s| s.name).collect()
}

#[test]
fn methods_add_to_and_override_the_block() {
    let ((), text, captured) = observed(|| {
        let mut store = Store::open("events");
        let _ = store.get("k");
        let _ = store.put("x");
        let _ = store.put("");
        let _ = (store.table(), Store::version(), store.size(), Store::KIND);
    });
    assert_eq!(names(&captured), ["open", "get", "put", "put", "size"]);
    for series in [
        r#"store_total{table="none",result="ok"} 1"#,
        r#"store_total{table="events",result="ok"} 1"#,
        r#"store_total{table="eventsx",result="ok"} 1"#,
        r#"store_put_total{table="override",op="put",result="ok"} 1"#,
        r#"store_put_total{table="override",op="put",result="error"} 1"#,
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
    assert_eq!(captured.spans()[2].level, Level::DEBUG);
    assert_eq!(captured.spans()[1].level, Level::INFO);
    // The block's `err` applies to `put`'s `Err`...
    let failed = &captured.spans()[3];
    assert_eq!(failed.events.len(), 1);
    assert_eq!(failed.events[0].fields.get("error"), Some("empty key"));
    // ... `skip(self)` to every method, and `size` is observed without `err`.
    let size = captured.span("size");
    assert!(!size.declared.contains(&"self".to_owned()), "{size:?}");
    assert!(size.events.is_empty());
}

pub trait Cache<K> {
    type Item;
    fn lookup(&self, key: K) -> Option<Self::Item>;
    fn size(&self) -> usize;
}

#[observe(metric = "cache", labels(kind = "memory"), track_concurrency)]
impl<K: std::fmt::Debug> Cache<K> for Store {
    type Item = u32;

    fn lookup(&self, _key: K) -> Option<u32> {
        None
    }

    fn size(&self) -> usize {
        0
    }
}

#[test]
fn trait_impls_are_observed_method_by_method() {
    let store = Store { table: "t".into() };
    let ((), text, captured) = observed(|| {
        let _ = Cache::<&str>::lookup(&store, "k");
        let _ = Cache::<u8>::lookup(&store, 1);
        let _ = Cache::<u8>::size(&store);
    });
    assert_eq!(names(&captured), ["lookup", "lookup", "size"]);
    assert!(
        text.contains(r#"cache_total{kind="memory",result="ok"} 3"#),
        "{text}"
    );
    let lookup = &captured.spans()[0];
    assert_eq!(lookup.field("_key"), Some("\"k\""));
    assert!(lookup.declared.contains(&"observe.in_flight".to_owned()));
}

#[async_trait::async_trait]
pub trait Remote {
    async fn load(&self, id: u32) -> Result<u32, String>;
    async fn ping(&self);
}

/// `#[observe]` above `#[async_trait]`: it instruments each `async fn` as written.
pub struct Above;

#[observe(metric = "above", err, ok_if = |r| r.as_ref().is_err_and(|e| e == "gone"))]
#[async_trait::async_trait]
impl Remote for Above {
    async fn load(&self, id: u32) -> Result<u32, String> {
        tokio::task::yield_now().await;
        match id {
            0 => Err("gone".into()),
            1 => Err("broken".into()),
            n => Ok(n),
        }
    }

    async fn ping(&self) {}
}

/// `#[observe]` below `#[async_trait]`: it instruments the future async-trait boxed.
pub struct Below;

#[async_trait::async_trait]
#[observe(metric = "below", err, ok_if = |r| r.as_ref().is_err_and(|e| e == "gone"))]
impl Remote for Below {
    async fn load(&self, id: u32) -> Result<u32, String> {
        tokio::task::yield_now().await;
        match id {
            0 => Err("gone".into()),
            1 => Err("broken".into()),
            n => Ok(n),
        }
    }

    #[observe(ignore)]
    async fn ping(&self) {}
}

#[test]
fn async_trait_impls_work_with_observe_above_or_below() {
    let ((), text, captured) = observed(|| {
        block_on(async {
            for remote in [&Above as &dyn Remote, &Below] {
                for id in [0, 1, 2] {
                    let _ = remote.load(id).await;
                }
                remote.ping().await;
            }
        })
    });
    // `ping` of `Below` opted out.
    assert_eq!(
        names(&captured),
        ["load", "load", "load", "ping", "load", "load", "load"]
    );
    // "gone" is ok by `ok_if`, "broken" an error, 2 ok; and `ping` of `Above`.
    for series in [
        r#"above_total{result="ok"} 3"#,
        r#"above_total{result="error"} 1"#,
        r#"below_total{result="ok"} 2"#,
        r#"below_total{result="error"} 1"#,
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
    let spans = captured.spans();
    let (above, below) = (&spans[..3], &spans[4..]);
    for (a, b) in above.iter().zip(below) {
        let without_metric = |s: &CapturedSpan| {
            let mut fields = s.fields.0.clone();
            fields.remove("metric_name");
            fields
        };
        assert_eq!(
            without_metric(a),
            without_metric(b),
            "same fields either way"
        );
        assert_eq!(a.declared, b.declared);
        assert_eq!(a.events.len(), b.events.len());
        assert!(a.closed && b.closed);
    }
    // `err` logged both `Err`s, also the one `ok_if` counts as ok.
    assert_eq!(above[0].events.len(), 1);
    assert_eq!(above[0].field("observe.result"), None);
    assert_eq!(above[1].field("observe.result"), Some("error"));
}

/// A block label that reads `self`, above `#[async_trait]` (which renames `self` in the
/// bodies it boxes, the span's label expression included) and below it.
pub struct Named(&'static str);
pub struct NamedBelow(&'static str);

#[observe(metric = "named", labels(name = self.0), skip(self))]
#[async_trait::async_trait]
impl Remote for Named {
    async fn load(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    async fn ping(&self) {}
}

#[async_trait::async_trait]
#[observe(metric = "named", labels(name = self.0), skip(self))]
impl Remote for NamedBelow {
    async fn load(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    async fn ping(&self) {}
}

#[test]
fn block_labels_read_self_in_async_trait_impls() {
    let ((), text, _) = observed(|| {
        block_on(async {
            let _ = Named("above").load(1).await;
            NamedBelow("below").ping().await;
        })
    });
    for series in [
        r#"named_total{name="above",result="ok"} 1"#,
        r#"named_total{name="below",result="ok"} 1"#,
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
}
