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

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser as _;
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{
    Block, Expr, ExprAsync, GenericArgument, PathArguments, ReturnType, Signature, Stmt, Type,
    TypeParamBound,
};

use crate::attr::OutcomeRule;
use crate::instrument::Instrument;

/// What we know about the value a body produces, which decides how `Err` is detected.
pub(crate) enum Output {
    /// No return type: never an error.
    Unit,
    /// A nameable type: bind it and use autoref specialisation (`Result` or not).
    Known(Type),
    /// Contains `impl Trait` and is a `Result<..>`: bind the erased type, `matches!` on it.
    OpaqueResult(Type),
    /// Contains `impl Trait` and is not a `Result`: cannot be an `Err`.
    Opaque(Type),
    /// Not written down (an async block whose output we could not find): infer it.
    Inferred,
}

impl Output {
    pub(crate) fn from_type(ty: &Type) -> Output {
        if let Type::Tuple(t) = ty
            && t.elems.is_empty()
        {
            return Output::Unit;
        }
        if !contains_impl_trait(ty) {
            return Output::Known(ty.clone());
        }
        let erased = erase_impl_trait(ty);
        let is_result = matches!(&erased, Type::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "Result"));
        if is_result {
            Output::OpaqueResult(erased)
        } else {
            Output::Opaque(erased)
        }
    }

    fn from_return(ret: &ReturnType) -> Output {
        match ret {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => Output::from_type(ty),
        }
    }

    /// `: T` for the `let` that binds the body's value.
    fn annotation(&self) -> TokenStream {
        match self {
            Output::Known(ty) | Output::OpaqueResult(ty) => quote!(: #ty),
            Output::Unit | Output::Opaque(_) | Output::Inferred => quote!(),
        }
    }

    /// A never-taken `return` of the declared type as the first statement of the wrapped
    /// body, so that `?` and `return` inside it infer the right type (the trick
    /// tracing-attributes uses too).
    fn type_hint(&self) -> TokenStream {
        let ty = match self {
            Output::Known(ty) | Output::OpaqueResult(ty) | Output::Opaque(ty) => ty,
            Output::Unit | Output::Inferred => return quote!(),
        };
        quote! {
            #[allow(
                unknown_lints,
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop,
                clippy::let_with_type_underscore,
                clippy::needless_return
            )]
            if false {
                let __observe_type_hint: #ty = loop {};
                return __observe_type_hint;
            }
        }
    }

    /// Finishes the guard: `finish_err` when the bound value is an `Err`, or as `ok_if` /
    /// `error_if` decide. The predicate runs only when it can change the outcome: `ok_if`
    /// on an `Err`, `error_if` on anything else.
    fn finish(&self, rule: Option<&OutcomeRule>) -> TokenStream {
        let is_err = match self {
            Output::Unit | Output::Opaque(_) => None,
            Output::Known(ty) if never_result(ty) => None,
            Output::Known(_) | Output::Inferred => Some(quote! {{
                #[allow(unused_imports)]
                use ::observe::__private::{IsErrOther as _, IsErrResult as _};
                (&__observe_ret).__observe_is_err()
            }}),
            Output::OpaqueResult(_) => Some(quote!(::core::matches!(
                &__observe_ret,
                ::core::result::Result::Err(_)
            ))),
        };
        let failed = match (is_err, rule) {
            (None, None) => return quote!(__observe_guard.finish_ok();),
            (Some(is_err), None) => is_err,
            (None, Some(rule)) if rule.ok_if && rule.inherited => {
                return quote!(__observe_guard.finish_ok(););
            }
            (None, Some(rule)) if rule.ok_if => return ok_if_without_err(rule),
            (None, Some(rule)) => predicate(rule),
            (Some(is_err), Some(rule)) => {
                let predicate = predicate(rule);
                if rule.ok_if {
                    quote!((#is_err) && !(#predicate))
                } else {
                    quote!((#is_err) || (#predicate))
                }
            }
        };
        quote! {
            if #failed {
                __observe_guard.finish_err();
            } else {
                __observe_guard.finish_ok();
            }
        }
    }
}

/// The `ok_if` / `error_if` predicate applied to `__observe_ret`, through a generic
/// function so that a closure's parameter type is inferred from the return type, and a
/// predicate that does not fit is reported at the predicate.
fn predicate(rule: &OutcomeRule) -> TokenStream {
    let predicate = &rule.predicate;
    quote_spanned! {predicate.span()=>
        ::observe::__private::predicate(&__observe_ret, #predicate)
    }
}

/// `ok_if` on a function that cannot return `Err` would never apply: say so where it is
/// written (the return type is only known here, after the body's shape is).
fn ok_if_without_err(rule: &OutcomeRule) -> TokenStream {
    quote_spanned! {rule.key.span()=>
        ::core::compile_error!(
            "`ok_if` turns an `Err` into ok, and this function does not return a `Result`; \
             to count some of its returns as errors, use `error_if`"
        );
        __observe_guard.finish_ok();
    }
}

/// Whether a function's value is, by its type's name, a `Result` (`Result<..>`,
/// `io::Result<..>`, `DbResult<..>`): what an impl block's `err` needs of a method to apply
/// to it (`err` matches on `Ok` / `Err`, so it cannot apply to any other type).
pub(crate) fn returns_result(sig: &Signature, body: &TokenStream) -> bool {
    let ty: &Type = match &sig.output {
        ReturnType::Default => return false,
        ReturnType::Type(_, ty) if sig.asyncness.is_none() && AsyncTail::find(body).is_some() => {
            match future_output(ty) {
                Some(output) => output,
                None => return false,
            }
        }
        ReturnType::Type(_, ty) => ty,
    };
    named_result(ty)
}

fn named_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().ends_with("Result")),
        // `$ret:ty` from a `macro_rules!` arrives in an invisible group.
        Type::Group(t) => named_result(&t.elem),
        Type::Paren(t) => named_result(&t.elem),
        _ => false,
    }
}

/// Types that are plainly not a `Result` (for which the autoref probe would answer "not an
/// error" anyway), so the probe need not be type-checked: primitives, `String`,
/// references (the probe never sees through them), tuples, arrays, slices, pointers, fns.
fn never_result(ty: &Type) -> bool {
    const PLAIN: &[&str] = &[
        "bool", "char", "str", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "u128",
        "i128", "usize", "isize", "f32", "f64", "String",
    ];
    match ty {
        Type::Path(p) => {
            p.qself.is_none()
                && p.path.segments.len() == 1
                && p.path.segments[0].arguments.is_none()
                && PLAIN.iter().any(|t| p.path.segments[0].ident == t)
        }
        Type::Reference(_)
        | Type::Tuple(_)
        | Type::Array(_)
        | Type::Slice(_)
        | Type::Ptr(_)
        | Type::BareFn(_)
        | Type::Never(_) => true,
        Type::Paren(t) => never_result(&t.elem),
        Type::Group(t) => never_result(&t.elem),
        _ => false,
    }
}

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
fn instrumented_future(inst: &Instrument, output: &Output, stmts: TokenStream) -> TokenStream {
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

/// A sync fn whose value is a future built by an `async` block in tail position:
/// `Box::pin(async move { .. })` (async-trait) or `async move { .. }`.
pub(crate) struct AsyncTail {
    stmts: Vec<Stmt>,
    /// Index of the tail statement in `stmts`.
    index: usize,
}

impl AsyncTail {
    /// Recognises the shapes tracing-attributes 0.1.31 recognises (`AsyncInfo::from_fn`):
    /// the tail expression is an `async` block, or a call of a path ending in `Box::pin`
    /// whose first argument is one. The body is parsed only when an `async` token at its top
    /// level (or in a top-level parenthesis) makes that possible.
    pub(crate) fn find(body: &TokenStream) -> Option<Self> {
        let async_at = |tokens: TokenStream| {
            tokens
                .into_iter()
                .any(|t| matches!(&t, TokenTree::Ident(i) if i == "async"))
        };
        let possible = body.clone().into_iter().any(|t| match &t {
            TokenTree::Ident(i) => i == "async",
            TokenTree::Group(g) => g.delimiter() == Delimiter::Parenthesis && async_at(g.stream()),
            _ => false,
        });
        if !possible {
            return None;
        }
        let stmts = Block::parse_within.parse2(body.clone()).ok()?;
        let index = stmts
            .iter()
            .rposition(|stmt| matches!(stmt, Stmt::Expr(..)))?;
        let Stmt::Expr(tail, _) = &stmts[index] else {
            return None;
        };
        let found = match tail {
            Expr::Async(_) => true,
            Expr::Call(call) => {
                let is_box_pin = matches!(&*call.func, Expr::Path(path) if {
                    let segments: Vec<String> =
                        path.path.segments.iter().map(|s| s.ident.to_string()).collect();
                    segments.join("::").ends_with("Box::pin")
                });
                is_box_pin && matches!(call.args.first(), Some(Expr::Async(_)))
            }
            _ => false,
        };
        found.then_some(AsyncTail { stmts, index })
    }

    /// The fn body with the tail's async block instrumented; `ret` is the fn's declared
    /// return type, searched for `Future<Output = R>` (`Pin<Box<dyn Future<Output = R> + ..>>`
    /// from async-trait, or `impl Future<Output = R>`).
    pub(crate) fn body(&self, inst: &Instrument, ret: &ReturnType) -> TokenStream {
        let output = match ret {
            ReturnType::Type(_, ty) => future_output(ty)
                .map(Output::from_type)
                .unwrap_or(Output::Inferred),
            ReturnType::Default => Output::Inferred,
        };
        let Stmt::Expr(tail, _) = &self.stmts[self.index] else {
            unreachable!("found as an expression")
        };
        let (boxing, async_expr) = match tail {
            Expr::Async(async_expr) => (None, async_expr),
            Expr::Call(call) => match call.args.first() {
                Some(Expr::Async(async_expr)) => (Some(&call.func), async_expr),
                _ => unreachable!("found as a call with an async block"),
            },
            _ => unreachable!("found as an async block or a call"),
        };
        let ExprAsync {
            attrs,
            capture,
            block: inner,
            ..
        } = async_expr;
        let stmts = &inner.stmts;
        let instrumented = instrumented_future(inst, &output, quote!(#(#stmts)*));
        let new_async = quote!(#(#attrs)* async #capture { #instrumented });
        let tail = match boxing {
            Some(func) => quote!(#func(#new_async)),
            None => new_async,
        };
        let before = &self.stmts[..self.index];
        let after = &self.stmts[self.index + 1..];
        quote! {
            #(#before)*
            #tail
            #(#after)*
        }
    }
}

/// `R` in the first `Output = R` binding found in `ty`.
fn future_output(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) => path_output(&p.path),
        Type::TraitObject(t) => bounds_output(&t.bounds),
        Type::ImplTrait(t) => bounds_output(&t.bounds),
        Type::Paren(t) => future_output(&t.elem),
        Type::Group(t) => future_output(&t.elem),
        _ => None,
    }
}

fn path_output(path: &syn::Path) -> Option<&Type> {
    path.segments.iter().find_map(|seg| match &seg.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            GenericArgument::Type(inner) => future_output(inner),
            _ => None,
        }),
        _ => None,
    })
}

fn bounds_output<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<&'a Type> {
    bounds.into_iter().find_map(|bound| match bound {
        TypeParamBound::Trait(t) => path_output(&t.path),
        _ => None,
    })
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl syn::visit_mut::VisitMut for Finder {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::ImplTrait(_) = t {
                self.0 = true;
            } else {
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
    }
    let mut finder = Finder(false);
    finder.visit_type_mut(&mut ty.clone());
    finder.0
}

/// `impl Trait` → `_`, so the type can annotate a `let` (as tracing-attributes does).
fn erase_impl_trait(ty: &Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::ImplTrait(_) = t {
                *t = syn::parse_quote!(_);
            } else {
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
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
