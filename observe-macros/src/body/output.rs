//! The value a body produces: whether it is a `Result`, and how its outcome is read (`Err`, `ok_if`, `error_if`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, PathArguments, ReturnType, Signature, Type, TypeParamBound};

use crate::attr::OutcomeRule;

use super::AsyncTail;

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

    pub(super) fn from_return(ret: &ReturnType) -> Output {
        match ret {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => Output::from_type(ty),
        }
    }

    /// `: T` for the `let` that binds the body's value.
    pub(super) fn annotation(&self) -> TokenStream {
        match self {
            Output::Known(ty) | Output::OpaqueResult(ty) => quote!(: #ty),
            Output::Unit | Output::Opaque(_) | Output::Inferred => quote!(),
        }
    }

    /// A never-taken `return` of the declared type as the first statement of the wrapped
    /// body, so that `?` and `return` inside it infer the right type (the trick
    /// tracing-attributes uses too).
    pub(super) fn type_hint(&self) -> TokenStream {
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
    pub(super) fn finish(&self, rule: Option<&OutcomeRule>) -> TokenStream {
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
pub(super) fn predicate(rule: &OutcomeRule) -> TokenStream {
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
pub(super) fn never_result(ty: &Type) -> bool {
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

/// `R` in the first `Output = R` binding found in `ty`.
pub(super) fn future_output(ty: &Type) -> Option<&Type> {
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

pub(super) fn contains_impl_trait(ty: &Type) -> bool {
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
pub(super) fn erase_impl_trait(ty: &Type) -> Type {
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
