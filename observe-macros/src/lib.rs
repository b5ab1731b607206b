//! The `#[observe]` attribute and the `observe_async!` macro of the observe toolkit.
//!
//! Use them through the `observe` crate (`observe::observe`, `observe::observe_async!`);
//! its documentation has runnable examples. The expansion refers to
//! `::observe::__private`, so this crate is not usable on its own.
//!
//! The implementation follows the parse → validate → expand split of thiserror's
//! `impl` crate:
//! - `attr.rs` parses options (both macros), keeping spans for error messages;
//! - `valid.rs` checks them against the rules of `docs/reference.md` ("#[observe]");
//! - `fields.rs` builds the span fields shared with `observe_runtime::fields`, and the
//!   span's `static` callsite;
//! - `registry.rs` builds the span's entry in `observe_runtime::observed` (metric, literal
//!   labels, objective, `track_concurrency`), a linkme element next to the callsite;
//! - `instrument.rs` gives the `#[tracing::instrument]` options their meaning (recorded
//!   arguments, level, parent, follows_from, `err` / `ret` events), as tracing-attributes
//!   0.1.31 does, without emitting `#[tracing::instrument]`;
//! - `body.rs` builds the instrumented body (span, user statements, outcome recording,
//!   `ok_if` / `error_if`);
//! - `expand.rs` (`#[observe]` on a function) and `async_macro.rs` (`observe_async!`) emit
//!   the code; `impl_block.rs` (`#[observe]` on an `impl`) sends each method through
//!   `expand.rs` with its options merged with the block's by `merge.rs`;
//! - `suggest.rs` offers "did you mean" for misspelled options.

mod async_macro;
mod attr;
mod body;
mod expand;
mod fields;
mod impl_block;
mod instrument;
mod merge;
mod registry;
mod suggest;
mod valid;

use proc_macro::TokenStream;

/// Instruments a function, or every function of an `impl` block: a `tracing` span with its
/// arguments and context fields, a Prometheus counter and latency histogram, and an
/// OpenTelemetry span, from one attribute.
///
/// # Options
///
/// | option | meaning |
/// | --- | --- |
/// | `metric = "name"` | metric base name, `[a-zA-Z_:][a-zA-Z0-9_:]*`, without the `_total`/`_seconds`/`_count`/`_sum`/`_bucket` suffix (the runtime adds `_total` and `_duration_seconds`). Default: `function_calls`, labelled `function` and `module`. |
/// | `labels(k = expr, k = %expr, k = ?expr, k = "lit")` | metric labels, evaluated once when the span is created; `%` records with `Display`, `?` with `Debug`. Names `[a-zA-Z_][a-zA-Z0-9_]*`, not `le`, `quantile`, `result` or `__*`, no duplicates. |
/// | `otel_kind = "client"` | OpenTelemetry span kind: `server`, `client`, `producer`, `consumer` or `internal`. |
/// | `ok_if = p`, `error_if = p` | what counts as an error (see Outcome): `p` is a path or closure taking `&ReturnType` and returning `bool`. One of the two. |
/// | `track_concurrency` | keep a `<metric>_in_flight` gauge of the calls in progress (the span declares the field `observe.in_flight`, never recorded, as the runtime's marker). |
/// | `objective(name = "api", success = 99.9, latency = ("250ms", 99.0))` | a service-level objective: a non-empty name and a success target, a latency target, or both. Percentages strictly between 0 and 100; the threshold a positive duration in `s`, `ms`, `us` or `µs`. The metrics carry it as labels (`objective_name`, `objective_percentile`, `objective_latency_threshold`). |
/// | `ignore` | on a method of an observed `impl` block: leave this method alone. |
/// | `name`, `target`, `level`, `skip(..)`, `skip_all`, `fields(..)`, `err`, `err(Display \| Debug, level = ..)`, `ret`, `ret(..)`, `parent = expr`, `follows_from = expr` | `#[tracing::instrument]`'s documented meaning (implemented here, not by expanding to `#[tracing::instrument]`). The name may also be a bare string, `#[observe("db.save")]`. |
///
/// Every mistake is a compile error that points at the offending token, e.g.
/// `metric = "db_total"` ("the suffix is added for you"), `otel_kind = "rpc"`,
/// `labels(result = ..)`, `metrics = ..` ("did you mean `metric`?"), `success = 100`,
/// `latency = ("250", 99.0)` (no unit), `ok_if` together with `error_if`, a predicate
/// whose type does not fit the return type.
///
/// # Arguments
///
/// Arguments are recorded as `#[tracing::instrument]` records them (primitives and strings
/// as values, the rest with `Debug`; `skip`, `skip_all` and a `fields(..)` entry of the same
/// name leave one out), with one difference: an argument whose type does not implement
/// `Debug` (often `self`, or a generic `T` without a `Debug` bound) is left out instead of
/// failing the build. Its field is still declared, and stays empty: the span's callsite
/// is a `static`, which cannot depend on the function's types, so the choice is made
/// where the value is recorded.
///
/// An argument named like a field the expansion writes (`metric_name`,
/// `metric_label_<k>`) is a compile error rather than a silent replacement: rename it, or
/// `skip` it. The same goes for a `fields(..)` entry named `metric_name`,
/// `metric_label_<k>`, `otel.kind`, `otel.status_code` or `observe.*`.
///
/// # Outcome
///
/// The span declares `observe.result` and `otel.status_code` and records them only when
/// the call fails, in one `record` on its own span (by id, whatever span is current):
/// - `observe.result = "error"`, `otel.status_code = "ERROR"` when the function returns
///   `Err` (with or without the `err` option), before the `err` event;
/// - `observe.result = "panic"`, `otel.status_code = "ERROR"` when it panics;
/// - `observe.result = "cancelled"` when an `async fn`'s future is dropped before it
///   completes.
///
/// Nothing is recorded on success, so the runtime's `result` label is `ok`; `error` and
/// `panic` both count as `result="error"`. A span that is filtered out records nothing,
/// and never marks its caller's span.
///
/// `ok_if = p` and `error_if = p` change what a return counts as: with `ok_if`, an `Err`
/// for which `p(&value)` is `true` is ok (a 404 that is an answer, not a failure); with
/// `error_if`, any other return for which it is `true` is an error (an `Ok(None)` that
/// should not happen). The predicate runs only when it can change the outcome (`ok_if` on
/// an `Err`, `error_if` otherwise), after the body, with the span entered; it sees the
/// returned value and whatever a closure may capture there (constants, statics), not the
/// arguments, which the body may have consumed. `ok_if` on a function that cannot return
/// `Err` is an error (use `error_if`). `err` and `ret` keep `#[instrument]`'s meaning:
/// `err` logs every `Err`, also one that `ok_if` counts as ok (an exception event on a
/// span whose status stays unset), `ret` every `Ok`.
///
/// # Impl blocks
///
/// On an `impl` block (inherent, trait, generic, `unsafe`), `#[observe(..)]` observes
/// every function with a body in it, with the block's options; a method's own
/// `#[observe(..)]` (written `observe` or `observe::observe`) adds to them or overrides
/// them, and `#[observe(ignore)]` leaves a method alone:
///
/// | options | a method's own … |
/// | --- | --- |
/// | `metric`, `otel_kind`, `target`, `level`, `err`, `ret`, `parent`, `follows_from`, `objective`, `ok_if` / `error_if` (as one) | … replaces the block's |
/// | `labels(..)`, `fields(..)` | … are merged with the block's by name, the method's value winning |
/// | `skip(..)`, `skip_all`, `track_concurrency` | … add to the block's |
/// | `name` | … is the only one: a block-level name would name every span the same, and is refused |
///
/// The block's `err` applies to the methods whose return type is named like a `Result`
/// (`Result<..>`, `io::Result<..>`, `DbResult<..>`), the others are observed without it;
/// its `ok_if` is moot on a method that cannot return `Err`; its `skip(x)` applies where
/// there is an `x`. A block-level `labels(..)`, `fields(..)`, `parent` or `follows_from`
/// that uses `self` is an error on an associated function without `self`, pointing at
/// the function: opt it out, or give it its own value. `const fn`s are left alone (a
/// `const fn` with its own `#[observe]` is an error), as are associated consts, types and
/// macro invocations. With `#[async_trait]`, `#[observe]` may go above it (it instruments
/// each `async fn`, which async-trait then boxes) or below it (it instruments the boxed
/// future async-trait made of each method).
///
/// # Registry
///
/// Every observed function (and every `observe_async!` with a `metric`) adds one `static`
/// entry to `observe::runtime::observed` (a linkme distributed slice: a linker section, no
/// code before `main`): its metric, its objective, `track_concurrency`, and its labels
/// when every value is a literal (the default `function` / `module` labels, or
/// `labels(k = "literal")`), so that the runtime can make those series at 0 before the
/// first call. A label whose value comes from an argument or an expression is not known
/// in advance; the series of such a function appear with its first call.
///
/// # Forms
///
/// Free functions, associated functions, methods taking `&self`, `&mut self` or `self`,
/// generic functions, functions returning `impl Trait`, `async fn` (also in trait impls),
/// `#[async_trait]` methods, and impl blocks (above). For async-trait, put
/// `#[async_trait]` on the `impl` (or trait) block as usual and `#[observe]` on the method
/// inside it: async-trait expands first, and `#[observe]` recognises the
/// `Box::pin(async move { .. })` body it produces. `const fn` and other items are
/// rejected.
///
/// # Requirements
///
/// None beyond `observe`: every path in the expansion goes through `::observe::__private`
/// (which re-exports `tracing` and linkme), so the crate using `#[observe]` needs no
/// `tracing` or `linkme` dependency of its own.
#[proc_macro_attribute]
pub fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::observe(attr.into(), item.into()).into()
}

/// Instruments a future with a new root span that follows from the current span.
///
/// `observe_async!("name", future)` or
/// `observe_async!("name", future, metric = "..", labels(..), otel_kind = "..", fields(..),
/// level = "..", target = "..", track_concurrency, objective(..))`.
///
/// The name must be a string literal; `future` is evaluated where the macro is written
/// (anything `IntoFuture`). The result is a future whose span has no parent (it starts a
/// new trace) and a `follows_from` edge to the span current at the macro (an OpenTelemetry
/// link), so a spawned task is traced on its own but stays connected to its spawner.
///
/// Metrics are recorded only when `metric` is given (unlike `#[observe]`, there is no
/// `function_calls` default: a task has no function name to label it with), and so
/// `labels`, `track_concurrency` and `objective` require `metric`; with it, the site has
/// an entry in the registry, as an observed function does. The outcome fields are recorded as for `#[observe]`:
/// `error` when the future resolves to `Err`, `panic` when it panics, `cancelled` when it
/// is dropped before completion (polled or not: its span exists from the start). Like
/// `#[observe]`, this macro needs no direct `tracing` dependency.
#[proc_macro]
pub fn observe_async(input: TokenStream) -> TokenStream {
    async_macro::observe_async(input.into()).into()
}
