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
//! - `instrument.rs` gives the `#[tracing::instrument]` options their meaning (recorded
//!   arguments, level, parent, follows_from, `err` / `ret` events), as tracing-attributes
//!   0.1.31 does, without emitting `#[tracing::instrument]`;
//! - `body.rs` builds the instrumented body (span, user statements, outcome recording);
//! - `expand.rs` (`#[observe]`) and `async_macro.rs` (`observe_async!`) emit the code;
//! - `suggest.rs` offers "did you mean" for misspelled options.

mod async_macro;
mod attr;
mod body;
mod expand;
mod fields;
mod instrument;
mod suggest;
mod valid;

use proc_macro::TokenStream;

/// Instruments a function: a `tracing` span with its arguments and context fields, a
/// Prometheus counter and latency histogram, and an OpenTelemetry span, from one attribute.
///
/// # Options
///
/// | option | meaning |
/// | --- | --- |
/// | `metric = "name"` | metric base name, `[a-zA-Z_:][a-zA-Z0-9_:]*`, without the `_total`/`_seconds`/`_count`/`_sum`/`_bucket` suffix (the runtime adds `_total` and `_duration_seconds`). Default: `function_calls`, labelled `function` and `module`. |
/// | `labels(k = expr, k = %expr, k = ?expr, k = "lit")` | metric labels, evaluated once when the span is created; `%` records with `Display`, `?` with `Debug`. Names `[a-zA-Z_][a-zA-Z0-9_]*`, not `le`, `quantile`, `result` or `__*`, no duplicates. |
/// | `otel_kind = "client"` | OpenTelemetry span kind: `server`, `client`, `producer`, `consumer` or `internal`. |
/// | `name`, `target`, `level`, `skip(..)`, `skip_all`, `fields(..)`, `err`, `err(Display \| Debug, level = ..)`, `ret`, `ret(..)`, `parent = expr`, `follows_from = expr` | `#[tracing::instrument]`'s documented meaning (implemented here, not by expanding to `#[tracing::instrument]`). The name may also be a bare string, `#[observe("db.save")]`. |
///
/// Every mistake is a compile error that points at the offending token, e.g.
/// `metric = "db_total"` ("the suffix is added for you"), `otel_kind = "rpc"`,
/// `labels(result = ..)`, `metrics = ..` ("did you mean `metric`?").
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
/// # Forms
///
/// Free functions, associated functions, methods taking `&self`, `&mut self` or `self`,
/// generic functions, functions returning `impl Trait`, `async fn` (also in trait impls),
/// and `#[async_trait]` methods. For async-trait, put `#[async_trait]` on the `impl` (or
/// trait) block as usual and `#[observe]` on the method inside it: async-trait expands
/// first, and `#[observe]` recognises the `Box::pin(async move { .. })` body it produces.
/// `const fn` and non-function items are rejected.
///
/// # Requirements
///
/// None beyond `observe`: every path in the expansion goes through `::observe::__private`
/// (which re-exports `tracing`), so the crate using `#[observe]` needs no `tracing`
/// dependency of its own.
#[proc_macro_attribute]
pub fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::observe(attr.into(), item.into()).into()
}

/// Instruments a future with a new root span that follows from the current span.
///
/// `observe_async!("name", future)` or
/// `observe_async!("name", future, metric = "..", labels(..), otel_kind = "..", fields(..),
/// level = "..", target = "..")`.
///
/// The name must be a string literal; `future` is evaluated where the macro is written
/// (anything `IntoFuture`). The result is a future whose span has no parent (it starts a
/// new trace) and a `follows_from` edge to the span current at the macro (an OpenTelemetry
/// link), so a spawned task is traced on its own but stays connected to its spawner.
///
/// Metrics are recorded only when `metric` is given (unlike `#[observe]`, there is no
/// `function_calls` default: a task has no function name to label it with), and so
/// `labels` requires `metric`. The outcome fields are recorded as for `#[observe]`:
/// `error` when the future resolves to `Err`, `panic` when it panics, `cancelled` when it
/// is dropped before completion (polled or not: its span exists from the start). Like
/// `#[observe]`, this macro needs no direct `tracing` dependency.
#[proc_macro]
pub fn observe_async(input: TokenStream) -> TokenStream {
    async_macro::observe_async(input.into()).into()
}
