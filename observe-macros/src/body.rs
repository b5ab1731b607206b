//! Wrapping a function body so that its outcome (error, panic, cancellation) is recorded
//! on its span, at no cost beyond a discriminant check when the call succeeds.
//!
//! Three body shapes, chosen like tracing-attributes chooses its own:
//! - `async fn`: `async move { body }.await` inside the fn, guard around it;
//! - a fn whose tail is `Box::pin(async move { .. })` (what `#[async_trait]` produces) or
//!   an `async move { .. }` block: the guard goes *inside* that async block, which is also
//!   the block tracing-attributes instruments, so the span is current when the guard runs;
//! - anything else: `(move || { body })()`, so `return` and `?` keep their meaning.
//!
//! In every shape the guard is created inside the instrumented code, i.e. while the span
//! is entered, and it is finished or dropped there too (tracing's `Instrumented` enters
//! the span while dropping the inner future, so cancellation is recorded on it as well).

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{
    Block, Expr, ExprAsync, GenericArgument, PathArguments, ReturnType, Stmt, Type, TypeParamBound,
};

/// What to pass to `OutcomeGuard::new`: the span's name and target, which let the guard
/// tell its own span from a caller's when its own is disabled.
pub(crate) struct GuardIdentity {
    pub name: TokenStream,
    pub target: TokenStream,
}

impl GuardIdentity {
    fn guard(&self) -> TokenStream {
        let GuardIdentity { name, target } = self;
        quote! {
            let __observe_guard = ::observe::__private::OutcomeGuard::new(#name, #target);
        }
    }
}

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

    /// Finishes the guard: `finish_err` when the bound value is an `Err`.
    fn finish(&self) -> TokenStream {
        let is_err = match self {
            Output::Unit | Output::Opaque(_) => return quote!(__observe_guard.finish_ok();),
            Output::Known(_) | Output::Inferred => quote! {{
                #[allow(unused_imports)]
                use ::observe::__private::{IsErrOther as _, IsErrResult as _};
                (&__observe_ret).__observe_is_err()
            }},
            Output::OpaqueResult(_) => {
                quote!(::core::matches!(
                    &__observe_ret,
                    ::core::result::Result::Err(_)
                ))
            }
        };
        quote! {
            if #is_err {
                __observe_guard.finish_err();
            } else {
                __observe_guard.finish_ok();
            }
        }
    }
}

/// The new statements of a sync fn body.
pub(crate) fn sync_body(block: &Block, ret: &ReturnType, id: &GuardIdentity) -> TokenStream {
    let output = Output::from_return(ret);
    let guard = id.guard();
    let annotation = output.annotation();
    let hint = output.type_hint();
    let finish = output.finish();
    let stmts = &block.stmts;
    quote! {
        #guard
        #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
        let __observe_ret #annotation = (move || {
            #hint
            #(#stmts)*
        })();
        #finish
        __observe_ret
    }
}

/// The new statements of an `async fn` body.
pub(crate) fn async_fn_body(block: &Block, ret: &ReturnType, id: &GuardIdentity) -> TokenStream {
    let output = Output::from_return(ret);
    let hint = output.type_hint();
    let stmts = &block.stmts;
    wrap_guard(id, &output, quote!(async move { #hint #(#stmts)* }))
}

/// `guard; let ret = <fut>.await; finish; ret`
fn wrap_guard(id: &GuardIdentity, output: &Output, fut: TokenStream) -> TokenStream {
    let guard = id.guard();
    let annotation = output.annotation();
    let finish = output.finish();
    quote! {
        #guard
        #[allow(clippy::let_unit_value)]
        let __observe_ret #annotation = #fut.await;
        #finish
        __observe_ret
    }
}

/// A sync fn whose value is a future built by an `async` block in tail position:
/// `Box::pin(async move { .. })` (async-trait) or `async move { .. }`.
pub(crate) struct AsyncTail<'a> {
    /// Index of the tail statement in the fn body.
    index: usize,
    /// `Box::pin` (or another path ending in `Box::pin`), when boxed.
    boxing: Option<&'a Expr>,
    async_expr: &'a ExprAsync,
}

impl<'a> AsyncTail<'a> {
    /// Recognises the shapes tracing-attributes 0.1.31 recognises (`AsyncInfo::from_fn`),
    /// so that the async block we put the guard in is the one it instruments.
    pub(crate) fn find(block: &'a Block) -> Option<Self> {
        let (index, tail) =
            block
                .stmts
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, stmt)| match stmt {
                    Stmt::Expr(expr, _) => Some((i, expr)),
                    _ => None,
                })?;
        match tail {
            Expr::Async(async_expr) => Some(AsyncTail {
                index,
                boxing: None,
                async_expr,
            }),
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else {
                    return None;
                };
                let segments: Vec<String> = path
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                if !segments.join("::").ends_with("Box::pin") {
                    return None;
                }
                match call.args.first() {
                    Some(Expr::Async(async_expr)) => Some(AsyncTail {
                        index,
                        boxing: Some(&call.func),
                        async_expr,
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The fn body with the tail's async block wrapped; `ret` is the fn's declared return
    /// type, searched for `Future<Output = R>` (`Pin<Box<dyn Future<Output = R> + ..>>`
    /// from async-trait, or `impl Future<Output = R>`).
    pub(crate) fn body(&self, block: &Block, ret: &ReturnType, id: &GuardIdentity) -> TokenStream {
        let output = match ret {
            ReturnType::Type(_, ty) => future_output(ty)
                .map(Output::from_type)
                .unwrap_or(Output::Inferred),
            ReturnType::Default => Output::Inferred,
        };
        let ExprAsync {
            attrs,
            capture,
            block: inner,
            ..
        } = self.async_expr;
        let hint = output.type_hint();
        let stmts = &inner.stmts;
        let wrapped = wrap_guard(id, &output, quote!(async move { #hint #(#stmts)* }));
        let new_async = quote!(#(#attrs)* async #capture { #wrapped });
        let tail = match self.boxing {
            Some(func) => quote!(#func(#new_async)),
            None => new_async,
        };
        let before = &block.stmts[..self.index];
        let after = &block.stmts[self.index + 1..];
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
