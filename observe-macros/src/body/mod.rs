//! The instrumented body of a function: the span (created and entered as
//! tracing-attributes does), the user's statements, and the recording of the outcome
//! (error, panic, cancellation) on the span, at no cost beyond a discriminant check when
//! the call succeeds.
//!
//! Three shapes, chosen like tracing-attributes chooses its own:
//! - a sync fn: the span is created only when its level is enabled, and entered for the
//!   rest of the call;
//! - an `async fn`: the span is created when the future is first polled, and the body's
//!   future is `.instrument(span)`ed;
//! - a fn whose tail is `Box::pin(async move { .. })` (what `#[async_trait]` produces) or
//!   an `async move { .. }` block: that block is the one instrumented, as for `async fn`.
//!
//! The user's statements run in a plain block when they cannot leave it early; when they
//! hold a `return`, a `?` or a macro that might expand to one, they run in a closure (an
//! async block for futures) so that the outcome is still seen.
//!
//! In every shape the outcome guard is made from the span just created, and it is finished
//! or dropped while the span is entered (tracing's `Instrumented` enters the span while
//! dropping the inner future, so cancellation is recorded in it too). It records on that
//! span by id, never on `Span::current()`.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::ReturnType;

use crate::instrument::Instrument;

mod async_tail;
mod output;

pub(crate) use async_tail::AsyncTail;
use output::predicate;
pub(crate) use output::{Output, returns_result};

/// The new statements of a sync fn body (`stmts`: the original ones, inner attributes
/// removed).
pub(crate) fn sync_fn(inst: &Instrument, ret: &ReturnType, stmts: TokenStream) -> TokenStream {
    let output = Output::from_return(ret);
    let callsite = &inst.callsite;
    let new_span = &inst.new_span;
    let guarded = guarded(inst, &output, stmts, false);
    // Left uninitialised unless the span is enabled (tracing-attributes' trick): with its
    // level filtered out, the call costs one comparison and no `Span` is built or dropped.
    // The guard is declared after the entered span, so it is dropped first (a panic is
    // recorded while the span is still entered).
    quote! {
        #callsite
        let __observe_span;
        let __observe_entered;
        let __observe_guard = if let ::core::option::Option::Some(__observe_on) =
            ::observe::__private::enabled(&__OBSERVE_CALLSITE)
        {
            __observe_span = #new_span;
            __observe_entered = __observe_span.enter();
            ::observe::__private::OutcomeGuard::new(&__observe_span)
        } else {
            ::observe::__private::OutcomeGuard::disabled()
        };
        #guarded
    }
}

/// The new statements of an `async fn` body.
pub(crate) fn async_fn(inst: &Instrument, ret: &ReturnType, stmts: TokenStream) -> TokenStream {
    instrumented_future(inst, &Output::from_return(ret), stmts)
}

/// Creates the span, then awaits a future running `stmts` instrumented with it (or, when the
/// span is disabled, not instrumented at all), as tracing-attributes does for `async fn`.
pub(super) fn instrumented_future(
    inst: &Instrument,
    output: &Output,
    stmts: TokenStream,
) -> TokenStream {
    let callsite = &inst.callsite;
    let new_span = &inst.new_span;
    let guarded = guarded(inst, output, stmts, true);
    // The guard is made from the span here and moved into the future it instruments, so it
    // is finished (or dropped, on cancellation) inside `Instrumented`.
    quote! {
        #callsite
        let __observe_span = match ::observe::__private::enabled(&__OBSERVE_CALLSITE) {
            ::core::option::Option::Some(__observe_on) => #new_span,
            ::core::option::Option::None => ::observe::__private::tracing::Span::none(),
        };
        let __observe_guard = ::observe::__private::OutcomeGuard::new(&__observe_span);
        let __observe_future = async move { #guarded };
        if !__observe_span.is_disabled() {
            ::observe::__private::tracing::Instrument::instrument(__observe_future, __observe_span)
                .await
        } else {
            __observe_future.await
        }
    }
}

/// `let ret = <stmts>; <outcome and events>; ret`, with `__observe_guard` in scope.
fn guarded(inst: &Instrument, output: &Output, stmts: TokenStream, in_async: bool) -> TokenStream {
    let annotation = output.annotation();
    // In a plain block, a body that diverges (`panic!()`, `loop {}`) makes what follows
    // unreachable: that is not the user's code to warn about.
    let (allow, value, allow_after) = if leaves_early(stmts.clone()) {
        let hint = output.type_hint();
        if in_async {
            (
                quote!(),
                quote!(async move { #hint #stmts }.await),
                quote!(),
            )
        } else {
            (
                quote!(#[allow(clippy::redundant_closure_call)]),
                quote!((move || { #hint #stmts })()),
                quote!(),
            )
        }
    } else {
        (
            quote!(#[allow(clippy::diverging_sub_expression)]),
            quote!({ #stmts }),
            quote!(#[allow(unreachable_code)]),
        )
    };
    let allow_unit = match output {
        Output::Unit => quote!(#[allow(clippy::let_unit_value)]),
        _ => quote!(),
    };
    let outcome = outcome(inst, output);
    quote! {
        #allow
        #allow_unit
        let __observe_ret #annotation = #value;
        #allow_after
        #outcome
        __observe_ret
    }
}

/// Finishes the guard on `__observe_ret` and emits the `err` / `ret` events (in that order,
/// while the span is still entered: the events are the span's). The outcome is recorded
/// before the `err` event because tracing-opentelemetry sets the span status from both and
/// keeps the later one: the event's carries the error message, `otel.status_code`'s none.
///
/// With `ok_if` / `error_if`, `err` and `ret` keep `#[instrument]`'s meaning: `err` logs
/// every `Err` (also one `ok_if` counts as ok), `ret` every `Ok`.
fn outcome(inst: &Instrument, output: &Output) -> TokenStream {
    let rule = inst.outcome_rule.as_ref();
    if inst.has_err() {
        // `err` means the function returns a `Result` (tracing-attributes matches on it too).
        let ok = format_ident!("__observe_ok");
        let err = format_ident!("__observe_err");
        let ret_event = inst.ret_event(&ok);
        let ok_pat = if ret_event.is_empty() {
            quote!(_)
        } else {
            quote!(#ok)
        };
        let err_event = inst.err_event(&err);
        let finish_ok = quote!(__observe_guard.finish_ok(););
        let finish_err = quote!(__observe_guard.finish_err(););
        let decide = |predicate: TokenStream, then: &TokenStream, otherwise: &TokenStream| quote!(if #predicate { #then } else { #otherwise });
        let (on_ok, on_err) = match rule {
            None => (finish_ok, finish_err),
            Some(rule) if rule.ok_if => {
                let on_err = decide(predicate(rule), &finish_ok, &finish_err);
                (finish_ok, on_err)
            }
            Some(rule) => (decide(predicate(rule), &finish_err, &finish_ok), finish_err),
        };
        quote! {
            match &__observe_ret {
                ::core::result::Result::Ok(#ok_pat) => {
                    #on_ok
                    #ret_event
                }
                ::core::result::Result::Err(#err) => {
                    #on_err
                    #err_event
                }
            }
        }
    } else {
        let finish = output.finish(rule);
        let ret_event = inst.ret_event(&format_ident!("__observe_ret"));
        quote!(#finish #ret_event)
    }
}

/// Whether `tokens` may leave the enclosing block early: a `return`, a `?` (the operator,
/// not a sigil), or a call of a macro that is not one of the well-known ones that never
/// expand to either. Nested closures and items are not told apart (they only cost the
/// closure).
fn leaves_early(tokens: TokenStream) -> bool {
    /// std's and tracing's (and log's) macros: none of them returns from the caller.
    const NEVER_RETURN: &[&str] = &[
        "assert",
        "assert_eq",
        "assert_ne",
        "cfg",
        "column",
        "concat",
        "dbg",
        "debug",
        "debug_assert",
        "debug_assert_eq",
        "debug_assert_ne",
        "debug_span",
        "env",
        "eprint",
        "eprintln",
        "error",
        "error_span",
        "event",
        "file",
        "format",
        "format_args",
        "include_bytes",
        "include_str",
        "info",
        "info_span",
        "line",
        "matches",
        "module_path",
        "option_env",
        "panic",
        "print",
        "println",
        "span",
        "stringify",
        "todo",
        "trace",
        "trace_span",
        "unimplemented",
        "unreachable",
        "vec",
        "warn",
        "warn_span",
        "write",
        "writeln",
    ];
    /// Keywords that may precede `!(..)` without it being a macro call (`if !(a && b)`).
    const KEYWORDS: &[&str] = &["if", "while", "match", "in", "else", "let", "break"];
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "return" => return true,
            TokenTree::Ident(ident) => {
                let bang =
                    matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let group = matches!(tokens.get(i + 2), Some(TokenTree::Group(_)));
                let name = ident.to_string();
                if bang
                    && group
                    && !NEVER_RETURN.contains(&name.as_str())
                    && !KEYWORDS.contains(&name.as_str())
                {
                    return true;
                }
            }
            // A `?` right after an expression's last token is the try operator; after
            // punctuation (or first) it is a sigil (`info!(?x)`) or a bound (`?Sized`).
            TokenTree::Punct(p)
                if p.as_char() == '?' && i > 0 && !matches!(tokens[i - 1], TokenTree::Punct(_)) =>
            {
                return true;
            }
            TokenTree::Group(g) if leaves_early(g.stream()) => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::output::never_result;
    use super::*;

    fn leaves(src: &str) -> bool {
        leaves_early(src.parse().unwrap())
    }

    #[test]
    fn early_exits_are_found() {
        assert!(!leaves("if flag { n + 1 } else { n * 2 }"));
        assert!(!leaves(
            "let x = vec![1]; tracing::info!(?x); if !(a && b) { 1 } else { 2 }"
        ));
        assert!(!leaves(
            "match x { Some(v) => v, None => panic!(\"none\") }"
        ));
        assert!(leaves("if x { return 1; } 2"));
        assert!(leaves("let n = s.parse::<u32>()?; n"));
        assert!(leaves("{ { foo()? } }"));
        assert!(leaves("tracing::info!(n = s.parse::<u32>()?)"));
        assert!(leaves("x.0?"));
        assert!(!leaves("fn g<T: ?Sized>(_: &T) {} tracing::info!(%a, ?b)"));
        assert!(leaves("anyhow::ensure!(ok, \"no\"); 1"));
        assert!(leaves("bail!(\"no\")"));
        assert!(
            leaves("let f = |x| return x; f(1)"),
            "conservative for closures"
        );
    }

    #[test]
    fn async_tails_are_found_only_when_possible() {
        let find = |src: &str| AsyncTail::find(&src.parse().unwrap()).is_some();
        assert!(find("Box::pin(async move { 1 })"));
        assert!(find("let x = 1; ::std::boxed::Box::pin(async move { x })"));
        assert!(find("async move { 1 }"));
        assert!(!find("let f = async { 1 }; f"));
        assert!(!find("Box::pin(fut)"));
        assert!(!find("x + 1"));
    }

    #[test]
    fn result_types_by_name() {
        let returns =
            |sig: &str| returns_result(&syn::parse_str(sig).unwrap(), &TokenStream::new());
        assert!(returns("fn f() -> Result<u8, E>"));
        assert!(returns("fn f() -> std::io::Result<()>"));
        assert!(returns("fn f() -> DbResult<u8>"));
        assert!(returns("async fn f() -> (anyhow::Result<u8>)"));
        assert!(!returns("fn f() -> Option<u8>"));
        assert!(!returns("fn f()"));
        let boxed = "fn f(&self) -> Pin<Box<dyn Future<Output = Result<u8, E>> + Send>>";
        let tail: TokenStream = "Box::pin(async move { Ok(1) })".parse().unwrap();
        assert!(returns_result(&syn::parse_str(boxed).unwrap(), &tail));
        let unit = "fn f(&self) -> Pin<Box<dyn Future<Output = ()> + Send>>";
        assert!(!returns_result(&syn::parse_str(unit).unwrap(), &tail));
    }

    #[test]
    fn plain_types_skip_the_probe() {
        let never = |src: &str| never_result(&syn::parse_str(src).unwrap());
        assert!(never("u64"));
        assert!(never("&Result<u8, ()>"));
        assert!(never("(u8, String)"));
        assert!(!never("Result<u8, ()>"));
        assert!(!never("io::Result<()>"));
        assert!(!never("Self"));
        assert!(!never("MyAlias"));
    }
}
