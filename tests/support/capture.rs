//! A `tracing_subscriber::Layer` that records everything the macro tests assert on:
//! per span its name, level, target, fields (including later `record`s), parent,
//! `follows_from` edges, events and whether it closed.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Debug, Default)]
pub(crate) struct Fields(pub BTreeMap<String, String>);

impl Fields {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Debug)]
pub(crate) struct CapturedEvent {
    pub level: Level,
    pub target: String,
    pub fields: Fields,
}

#[derive(Clone, Debug)]
pub(crate) struct CapturedSpan {
    pub id: u64,
    pub name: String,
    pub level: Level,
    pub target: String,
    /// Names of every field the span declared (recorded or not), in order.
    pub declared: Vec<String>,
    pub fields: Fields,
    pub parent: Option<u64>,
    pub follows_from: Vec<u64>,
    pub events: Vec<CapturedEvent>,
    pub closed: bool,
}

impl CapturedSpan {
    pub(crate) fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key)
    }
}

#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<CapturedSpan>>>);

impl Captured {
    pub(crate) fn spans(&self) -> Vec<CapturedSpan> {
        self.0.lock().unwrap().clone()
    }

    /// The one span called `name`; panics if there is not exactly one.
    pub(crate) fn span(&self, name: &str) -> CapturedSpan {
        let spans: Vec<_> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(spans.len(), 1, "spans named {name}: {spans:#?}");
        spans.into_iter().next().unwrap()
    }

    fn with(&self, id: &Id, f: impl FnOnce(&mut CapturedSpan)) {
        let mut spans = self.0.lock().unwrap();
        if let Some(span) = spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            f(span);
        }
    }
}

pub(crate) struct CaptureLayer(pub Captured);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = if attrs.is_root() {
            None
        } else if let Some(parent) = attrs.parent() {
            Some(parent.into_u64())
        } else {
            ctx.current_span().id().map(Id::into_u64)
        };
        let meta = attrs.metadata();
        self.0.0.lock().unwrap().push(CapturedSpan {
            id: id.into_u64(),
            name: meta.name().to_owned(),
            level: *meta.level(),
            target: meta.target().to_owned(),
            declared: meta.fields().iter().map(|f| f.name().to_owned()).collect(),
            fields,
            parent,
            follows_from: Vec::new(),
            events: Vec::new(),
            closed: false,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        self.0.with(id, |span| values.record(&mut span.fields));
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, _ctx: Context<'_, S>) {
        self.0
            .with(id, |span| span.follows_from.push(follows.into_u64()));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span = if event.is_root() {
            None
        } else if let Some(parent) = event.parent() {
            Some(parent.clone())
        } else {
            ctx.current_span().id().cloned()
        };
        if let Some(span) = span {
            let captured = CapturedEvent {
                level: *event.metadata().level(),
                target: event.metadata().target().to_owned(),
                fields,
            };
            self.0.with(&span, |s| s.events.push(captured));
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        self.0.with(&id, |span| span.closed = true);
    }
}

/// Runs `f` with a capturing subscriber, behind `filter`, as this thread's default.
pub(crate) fn capture_filtered<R, F>(filter: F, f: impl FnOnce() -> R) -> (R, Captured)
where
    F: Layer<tracing_subscriber::layer::Layered<CaptureLayer, tracing_subscriber::Registry>>
        + Send
        + Sync
        + 'static,
{
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(CaptureLayer(captured.clone()))
        .with(filter);
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, captured)
}

/// Runs `f` with a capturing subscriber as this thread's default and returns what it saw.
pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(CaptureLayer(captured.clone()));
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, captured)
}

/// Runs an async test body on a current-thread runtime under a capturing subscriber.
pub(crate) fn capture_async<F: std::future::Future>(
    f: impl FnOnce() -> F,
) -> (F::Output, Captured) {
    capture(|| block_on(f()))
}

/// Runs `f` under `Metrics::layer()` and a capturing layer; returns the exposition text too.
pub(crate) fn capture_with_metrics<R>(f: impl FnOnce() -> R) -> (R, String, Captured) {
    let metrics = observe::runtime::metrics::Metrics::new(Default::default()).unwrap();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(metrics.layer())
        .with(CaptureLayer(captured.clone()));
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, metrics.render(), captured)
}

/// Runs `future` to completion on a current-thread runtime.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
