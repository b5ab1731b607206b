//! Support code for the macro expansions. Not a public API: names and signatures here
//! change without notice.
//!
//! The expansion of `#[observe]` and `observe_async!` refers to everything here by the
//! absolute path `::observe::__private::...`, so user crates need no `use` of their own.

/// The `tracing` the expansions use: `Level`, `Span`, `Instrument`, `field::{debug,
/// display}`, `event!` (for `err` / `ret`) and `Id`.
pub use tracing;

use std::fmt::Debug;

use tracing::callsite::{Callsite as _, DefaultCallsite, Identifier};
use tracing::field::{self, DebugValue, FieldSet, Value};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::metadata::Kind;
use tracing::span::Record;
use tracing::{Dispatch, Level, Metadata, Span};

/// A span callsite, as `tracing::span!` declares it (`static`, registered on first use).
pub type Callsite = DefaultCallsite;

/// A span callsite's metadata.
pub type Meta = Metadata<'static>;

/// The callsite for `meta` (a `const fn`, for the expansion's `static`).
pub const fn callsite(meta: &'static Meta) -> Callsite {
    DefaultCallsite::new(meta)
}

/// A span's metadata, as `tracing::span!` builds it; `fields` are the final field names
/// (`r#` already removed by the macro).
#[allow(clippy::too_many_arguments)]
pub const fn span_meta(
    name: &'static str,
    target: &'static str,
    level: Level,
    file: &'static str,
    line: u32,
    module_path: &'static str,
    fields: &'static [&'static str],
    callsite: &'static Callsite,
) -> Meta {
    Metadata::new(
        name,
        target,
        level,
        Some(file),
        Some(line),
        Some(module_path),
        FieldSet::new(fields, Identifier(callsite)),
        Kind::SPAN,
    )
}

/// A span callsite that is enabled: [`enabled`] said so, and [`span`](Self::span) makes the
/// span from the field values (evaluated only then, as with `tracing::span!`).
#[derive(Clone, Copy)]
pub struct Enabled {
    meta: &'static Meta,
    /// Disabled for `tracing` but wanted by its `log` fallback (feature `log`, no
    /// subscriber): the span is made disabled and its values go to `log`.
    log_only: bool,
}

/// Whether the span of `callsite` is enabled, with `tracing::span!`'s checks in its order:
/// static and global max level (the fast path: a filtered-out level costs one load and a
/// compare), then the callsite's cached interest, then the subscriber's `enabled`.
#[inline(always)]
pub fn enabled(callsite: &'static Callsite) -> Option<Enabled> {
    let meta = callsite.metadata();
    let level = *meta.level();
    if level <= STATIC_MAX_LEVEL && level <= LevelFilter::current() && interested(callsite) {
        return Some(Enabled {
            meta,
            log_only: false,
        });
    }
    log_fallback(meta)
}

#[inline]
fn interested(callsite: &'static Callsite) -> bool {
    let interest = callsite.interest();
    !interest.is_never()
        && (interest.is_always()
            || tracing::dispatcher::get_default(|current| current.enabled(callsite.metadata())))
}

/// `tracing::span!`'s `log` fallback for a disabled span: without the `log` feature this is
/// `None`; with it, `Some` when no subscriber is set and `log` wants the level.
#[inline(always)]
fn log_fallback(meta: &'static Meta) -> Option<Enabled> {
    tracing::if_log_enabled! { *meta.level(), {
        return Some(Enabled { meta, log_only: true });
    }}
    let _ = meta;
    None
}

impl Enabled {
    /// The span, with the current span as parent; `values` has one entry per field.
    #[inline]
    pub fn span(self, values: &[Option<&dyn Value>]) -> Span {
        let values = self.meta.fields().value_set_all(values);
        if self.log_only {
            disabled_for_log(self.meta, &values)
        } else {
            Span::new(self.meta, &values)
        }
    }

    /// The span, with an explicit parent (`parent = ..`, or `None` for a root span).
    #[inline]
    pub fn child_span(
        self,
        parent: impl Into<Option<tracing::Id>>,
        values: &[Option<&dyn Value>],
    ) -> Span {
        let values = self.meta.fields().value_set_all(values);
        if self.log_only {
            disabled_for_log(self.meta, &values)
        } else {
            Span::child_of(parent, self.meta, &values)
        }
    }
}

#[cold]
fn disabled_for_log(meta: &'static Meta, values: &field::ValueSet<'_>) -> Span {
    let span = Span::new_disabled(meta);
    span.record_all(values);
    span
}

/// Field names shared with `observe_runtime::fields`; spelled out here because the
/// facade's expansion code must not depend on runtime internals.
use observe_runtime::fields::{ERROR, OTEL_STATUS_CODE as STATUS, RESULT};

/// Records the outcome of one instrumented call on its span, but only when it failed.
///
/// Made from the instrumented span right after it is created, then consumed by
/// [`finish_ok`](Self::finish_ok) or [`finish_err`](Self::finish_err). If it is dropped
/// instead, the body never finished: it panicked (`observe.result = "panic"`) or, for a
/// future, was dropped before completion (`observe.result = "cancelled"`).
///
/// The guard knows its span exactly (id, the dispatcher that created it, and its
/// callsite's metadata) and records through that dispatcher by id, as `Span::record`
/// would, but without holding a `Span`: holding one would mean a `clone_span` and a
/// `drop_span` the subscriber sees (tracing-mock expectations written for
/// `#[tracing::instrument]` reject both), and `Span::current()` would find the caller's
/// span whenever this one is disabled. A disabled span gives a guard that records nothing.
#[must_use]
pub struct OutcomeGuard {
    span: Option<OwnSpan>,
}

/// What an [`OutcomeGuard`] records on. The dispatcher is the span's own rather than the
/// thread's current one: a future may be finished on a thread whose default dispatcher
/// is another (and whose ids mean other spans). Cloning it costs nothing for the global
/// dispatcher and one reference count for a scoped one, against the subscriber call that
/// made the span.
struct OwnSpan {
    id: tracing::Id,
    dispatch: Dispatch,
    meta: &'static Meta,
}

impl OutcomeGuard {
    /// The guard for `span`, the instrumented span (possibly disabled).
    #[inline]
    pub fn new(span: &Span) -> Self {
        let span = span.metadata().and_then(|meta| {
            span.with_subscriber(|(id, dispatch)| OwnSpan {
                id: id.clone(),
                dispatch: dispatch.clone(),
                meta,
            })
        });
        OutcomeGuard { span }
    }

    /// The guard for a span that was not created (its level is filtered out).
    #[inline(always)]
    pub const fn disabled() -> Self {
        OutcomeGuard { span: None }
    }

    /// The call succeeded: record nothing (the layers treat an empty `observe.result` as
    /// `ok`), and skip `Drop` altogether, so that a disabled span's call pays nothing here
    /// (the span is dropped by hand only when there is one).
    #[inline(always)]
    pub fn finish_ok(mut self) {
        if let Some(span) = self.span.take() {
            drop(span);
        }
        core::mem::forget(self);
    }

    /// The call returned `Err`. The span is taken out first, so that a subscriber that
    /// panics while recording does not get a second `record` from `Drop` mid-unwind.
    #[inline]
    pub fn finish_err(mut self) {
        if let Some(span) = self.span.take() {
            span.record(ERROR, true);
        }
    }
}

impl OwnSpan {
    /// One `record` call with `observe.result` and, when the call failed,
    /// `otel.status_code = "ERROR"`.
    #[cold]
    #[inline(never)]
    fn record(&self, result: &'static str, failed: bool) {
        let fields = self.meta.fields();
        let (Some(result_field), Some(status_field)) = (fields.field(RESULT), fields.field(STATUS))
        else {
            return;
        };
        let status = "ERROR";
        let values = [
            (&result_field, Some(&result as &dyn Value)),
            (&status_field, failed.then_some(&status as &dyn Value)),
        ];
        self.dispatch
            .record(&self.id, &Record::new(&fields.value_set(&values)));
    }
}

impl Drop for OutcomeGuard {
    fn drop(&mut self) {
        let Some(span) = self.span.take() else { return };
        if std::thread::panicking() {
            span.record("panic", true);
        } else {
            // Only a future can be dropped half-way without panicking.
            span.record("cancelled", false);
        }
    }
}

/// The static registry the expansion adds one entry to per observed function (see
/// `observe_runtime::observed`), and the linkme its `#[distributed_slice]` element names.
pub use observe_runtime::observed::{OBSERVE_0_FNS, Objective, ObservedFn, linkme};

/// `ok_if = p` / `error_if = p`: `p(ret)`. A generic function rather than a typed `let`, so
/// that a closure's parameter type is inferred from the return type (also where the
/// expansion cannot name it: `impl Trait`, an async block's output), a closure may
/// capture, and a predicate that does not fit is reported at the predicate.
#[inline(always)]
pub fn predicate<R: ?Sized>(ret: &R, predicate: impl FnOnce(&R) -> bool) -> bool {
    predicate(ret)
}

/// Makes the span `new_span` creates follow from the current span (the `observe_async!`
/// link to its spawner): linked in observe's record from its creation, so that its first
/// log line names the link, and given a `follows_from` edge for other subscribers.
pub fn follow_current(new_span: impl FnOnce() -> tracing::Span) -> tracing::Span {
    let current = tracing::Span::current();
    let span = observe_runtime::context::with_links(current.id(), new_span);
    if !span.is_disabled() && !current.is_disabled() {
        span.follows_from(&current);
    }
    span
}

pub use observe_runtime::context::with_links;

// Autoref specialisation: `(&value).__observe_is_err()` resolves to `IsErrResult` for a
// `Result` (its `&self` receiver matches `&Result` at the by-value probe step) and to
// `IsErrOther` for every other type (its receiver is `&&T`, reached one autoref later).
// This answers "did the call return `Err`?" without knowing the type in the macro.

#[doc(hidden)]
pub trait IsErrResult {
    fn __observe_is_err(&self) -> bool;
}

impl<T, E> IsErrResult for Result<T, E> {
    #[inline(always)]
    fn __observe_is_err(&self) -> bool {
        self.is_err()
    }
}

#[doc(hidden)]
pub trait IsErrOther {
    fn __observe_is_err(&self) -> bool;
}

impl<T: ?Sized> IsErrOther for &T {
    #[inline(always)]
    fn __observe_is_err(&self) -> bool {
        false
    }
}

// Autoref specialisation again, for arguments: `(&Probe(&arg)).__observe_debug()` resolves
// to `DebugArg` when the argument's type implements `Debug` (its `&self` receiver matches
// `&Probe<T>` at the by-value probe step, if `T: Debug` holds) and to `NoDebugArg`
// otherwise (receiver `&&Probe<T>`, one autoref later). In a generic function the bound
// must be provable there, so a `T` without a `Debug` bound is left out. `Probe` is never a
// reference itself, so the two steps cannot both match an argument that is one.
//
// Both return `Option<DebugValue<&dyn Debug>>`, which is itself a `Value` (recording
// nothing when `None`), so the span's value for the argument is `Some(&probed)`, the shape
// `Some(&debug(&arg))` had, and rustc makes one `DebugValue` type per crate rather than one
// per argument type. The field stays declared either way: the callsite is a `static`,
// which cannot depend on the function's types.

#[doc(hidden)]
pub struct Probe<'a, T>(pub &'a T);

#[doc(hidden)]
pub trait DebugArg<'a> {
    fn __observe_debug(&self) -> Option<DebugValue<&'a dyn Debug>>;
}

impl<'a, T: Debug> DebugArg<'a> for Probe<'a, T> {
    #[inline]
    fn __observe_debug(&self) -> Option<DebugValue<&'a dyn Debug>> {
        Some(field::debug(self.0))
    }
}

#[doc(hidden)]
pub trait NoDebugArg<'a> {
    fn __observe_debug(&self) -> Option<DebugValue<&'a dyn Debug>>;
}

impl<'a, T> NoDebugArg<'a> for &Probe<'a, T> {
    #[inline]
    fn __observe_debug(&self) -> Option<DebugValue<&'a dyn Debug>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{IsErrOther as _, IsErrResult as _};

    // The explicit borrows are the point: they are the shape the expansion emits.
    #[test]
    #[allow(clippy::needless_borrow)]
    fn autoref_specialisation() {
        let ok: Result<u8, ()> = Ok(1);
        let err: Result<u8, ()> = Err(());
        assert!(!(&ok).__observe_is_err());
        assert!((&err).__observe_is_err());
        assert!(!(&5u8).__observe_is_err());
        assert!(!(&"x").__observe_is_err());
        assert!(!(&&err).__observe_is_err());
        assert!(!(&()).__observe_is_err());
    }

    struct Opaque;

    // As in `autoref_specialisation`, the explicit borrows are the shape the expansion
    // emits; without them a type without `Debug` finds no method at all.

    #[allow(clippy::needless_borrow)]
    fn probed<T>(value: &T) -> Option<String> {
        #[allow(unused_imports)]
        use super::{DebugArg as _, NoDebugArg as _};
        (&super::Probe(value))
            .__observe_debug()
            .map(|v| format!("{v:?}"))
    }

    #[allow(clippy::needless_borrow)]
    fn probed_debug<T: std::fmt::Debug>(value: &T) -> Option<String> {
        #[allow(unused_imports)]
        use super::{DebugArg as _, NoDebugArg as _};
        (&super::Probe(value))
            .__observe_debug()
            .map(|v| format!("{v:?}"))
    }

    // As emitted: `Some(&(&Probe(&binding)).__observe_debug())`, an `Option<DebugValue>`
    // that is recorded as a value (and records nothing when `None`).
    #[test]
    #[allow(clippy::needless_borrow)]
    fn debug_probe() {
        use super::{DebugArg as _, NoDebugArg as _, Probe};
        let text = "a";
        let pair = (1, 2);
        assert!((&Probe(&text)).__observe_debug().is_some());
        assert!((&Probe(&&pair)).__observe_debug().is_some());
        assert!((&Probe(&Opaque)).__observe_debug().is_none());
        assert!((&Probe(&&Opaque)).__observe_debug().is_none());
        assert_eq!(probed(&text), None, "no `Debug` bound in scope");
        assert_eq!(probed_debug(&text).as_deref(), Some("\"a\""));
        assert_eq!(probed_debug(&&pair).as_deref(), Some("(1, 2)"));
    }
}
