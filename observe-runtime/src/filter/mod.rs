//! One filter per signal, combined into the one answer `tracing` asks a layer for.
//!
//! `RUST_LOG` decides which log lines are written, `OBSERVE_METRICS_FILTER` which calls are
//! counted, `OBSERVE_TRACES_FILTER` which spans are exported. A span exists (for `tracing`)
//! when any of them takes it, and its record says which ones do, so that each signal's part
//! of a callback is a bit test:
//!
//! - a callsite every filter excludes is disabled as `tracing` disables any span: the level
//!   check, or the callsite's cached interest;
//! - a span only the metrics filter takes costs the record and the metrics path, no log
//!   encoding and no export.
//!
//! Each callsite's decisions are worked out once and kept in a small table keyed by the
//! callsite's address (`cache::DecisionCache`); only span and field
//! directives (`app[request{user=ada}]=debug`) are decided per span.

mod cache;
mod directives;
mod signals;

pub(crate) use directives::{Decision, normalise};
pub use directives::{FilterError, SignalFilter};
pub(crate) use signals::{Signal, SignalSet};

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::fields::{IN_FLIGHT, METRIC_NAME};
use cache::{DecisionCache, Decisions};

/// The three signals' filters; `None` for a signal the layer does not produce.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    logs: Option<SignalFilter>,
    metrics: Option<SignalFilter>,
    traces: Option<SignalFilter>,
    /// Some filter has span or field directives: span callbacks must reach it.
    dynamic: bool,
    cache: DecisionCache,
}

impl Filters {
    pub(crate) fn new(
        logs: Option<SignalFilter>,
        metrics: Option<SignalFilter>,
        traces: Option<SignalFilter>,
    ) -> Filters {
        let dynamic = [&logs, &metrics, &traces]
            .into_iter()
            .flatten()
            .any(SignalFilter::is_dynamic);
        Filters {
            logs,
            metrics,
            traces,
            dynamic,
            cache: DecisionCache::default(),
        }
    }

    fn filter(&self, signal: Signal) -> Option<&SignalFilter> {
        match signal {
            Signal::Logs => self.logs.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Traces => self.traces.as_ref(),
        }
    }

    /// Every signal's decision for `metadata`, from the table or worked out now.
    #[inline]
    fn decisions<S>(&self, metadata: &'static Metadata<'static>) -> Decisions
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        match self.cache.get(metadata) {
            Some(decisions) => decisions,
            None => self.decide::<S>(metadata),
        }
    }

    #[cold]
    fn decide<S>(&self, metadata: &'static Metadata<'static>) -> Decisions
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut decisions = Decisions::default();
        for signal in Signal::ALL {
            let Some(filter) = self.filter(signal) else {
                continue;
            };
            // Metrics come from spans that name a metric, and from nothing else.
            if signal == Signal::Metrics
                && !(metadata.is_span() && metadata.fields().field(METRIC_NAME).is_some())
            {
                continue;
            }
            decisions.set(signal, filter.decide::<S>(metadata));
        }
        if metadata.fields().field(IN_FLIGHT).is_some() {
            decisions.set_in_flight();
        }
        self.cache.put(metadata, decisions);
        decisions
    }

    /// The callsite's interest: always when a signal always takes it, never when none ever
    /// does.
    pub(crate) fn interest<S>(&self, metadata: &'static Metadata<'static>) -> Interest
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let decisions = self.decide::<S>(metadata);
        if decisions.any(Decision::Always) {
            Interest::always()
        } else if decisions.any(Decision::Dynamic) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    /// Which signals take this span or event now.
    #[inline]
    pub(crate) fn signals<S>(
        &self,
        metadata: &'static Metadata<'static>,
        ctx: &Context<'_, S>,
    ) -> SignalSet
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let decisions = self.decisions::<S>(metadata);
        let mut set = SignalSet::EMPTY;
        for signal in Signal::ALL {
            let on = match decisions.get(signal) {
                Decision::Always => true,
                Decision::Never => false,
                Decision::Dynamic => self
                    .filter(signal)
                    .is_some_and(|filter| filter.enabled_now(metadata, ctx.clone())),
            };
            if on {
                set = set.with(signal);
            }
        }
        if decisions.tracks_in_flight() {
            set = set.with_in_flight();
        }
        set
    }

    /// Whether the metrics filter may count this span's calls (always, or depending on
    /// its fields or parents).
    pub(crate) fn may_count<S>(&self, metadata: &'static Metadata<'static>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.decisions::<S>(metadata).get(Signal::Metrics) != Decision::Never
    }

    /// The highest level any signal takes.
    pub(crate) fn max_level(&self) -> Option<LevelFilter> {
        [&self.logs, &self.metrics, &self.traces]
            .into_iter()
            .flatten()
            .map(SignalFilter::max_level)
            .max()
    }

    /// Whether any filter keeps per-span state, so that span callbacks must reach it.
    #[inline]
    pub(crate) fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    fn each(&self) -> impl Iterator<Item = &SignalFilter> {
        [&self.logs, &self.metrics, &self.traces]
            .into_iter()
            .flatten()
            .filter(|f| f.is_dynamic())
    }

    pub(crate) fn on_new_span<S: Subscriber>(
        &self,
        attrs: &Attributes<'_>,
        id: &Id,
        ctx: &Context<'_, S>,
    ) {
        for filter in self.each() {
            filter.on_new_span(attrs, id, ctx.clone());
        }
    }

    pub(crate) fn on_record<S: Subscriber>(
        &self,
        id: &Id,
        values: &Record<'_>,
        ctx: &Context<'_, S>,
    ) {
        for filter in self.each() {
            filter.on_record(id, values, ctx.clone());
        }
    }

    pub(crate) fn on_enter<S: Subscriber>(&self, id: &Id, ctx: &Context<'_, S>) {
        for filter in self.each() {
            filter.on_enter(id, ctx.clone());
        }
    }

    pub(crate) fn on_exit<S: Subscriber>(&self, id: &Id, ctx: &Context<'_, S>) {
        for filter in self.each() {
            filter.on_exit(id, ctx.clone());
        }
    }

    pub(crate) fn on_close<S: Subscriber>(&self, id: &Id, ctx: &Context<'_, S>) {
        for filter in self.each() {
            filter.on_close(id.clone(), ctx.clone());
        }
    }
}

impl Filters {
    /// Whether any signal takes this span or event, asked without the decision table (for
    /// `Layer::enabled`, whose metadata is not `'static` in the trait's signature).
    pub(crate) fn enabled_dynamic<S>(&self, metadata: &Metadata<'_>, ctx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        Signal::ALL.into_iter().any(|signal| {
            let Some(filter) = self.filter(signal) else {
                return false;
            };
            if signal == Signal::Metrics
                && !(metadata.is_span() && metadata.fields().field(METRIC_NAME).is_some())
            {
                return false;
            }
            filter.enabled_now(metadata, ctx.clone())
        })
    }
}
