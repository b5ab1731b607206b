//! `observe_async!(name, future [, options])`: a future instrumented with a new root span
//! that follows from the span current where the macro is evaluated (typically the code
//! that spawns a task), so the task gets its own trace, linked to the spawner's.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, LitStr, Token};

use crate::attr::{Args, Macro};
use crate::valid::{self, Errors};

struct Input {
    name: LitStr,
    future: Expr,
    args: Args,
}

const USAGE: &str = "usage: `observe_async!(\"span.name\", future)` or \
                     `observe_async!(\"span.name\", future, metric = \"...\", labels(...))`";

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("observe_async! needs a span name and a future; {USAGE}"),
            ));
        }
        let name = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else {
            let found: Expr = input.parse()?;
            return Err(syn::Error::new_spanned(
                found,
                format!("the span name must be a string literal; {USAGE}"),
            ));
        };
        if input.is_empty() {
            return Err(syn::Error::new(
                name.span(),
                format!("observe_async! needs a future after the name; {USAGE}"),
            ));
        }
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            return Err(syn::Error::new(
                name.span(),
                format!("observe_async! needs a future after the name; {USAGE}"),
            ));
        }
        let future: Expr = input.parse()?;
        let args = if input.is_empty() {
            Args::default()
        } else {
            input.parse::<Token![,]>()?;
            Args::parse_options(input, Macro::Async)?
        };
        Ok(Input { name, future, args })
    }
}

pub(crate) fn observe_async(tokens: TokenStream) -> TokenStream {
    match expand(tokens) {
        Ok(expanded) => expanded,
        // In a block: with several errors, `compile_error!{..}` follows `compile_error!{..}`,
        // which is no expression.
        Err(error) => {
            let error = error.to_compile_error();
            quote!({ #error })
        }
    }
}

fn expand(tokens: TokenStream) -> syn::Result<TokenStream> {
    let Input { name, future, args } = syn::parse2(tokens)?;
    let mut errors = Errors::default();
    if name.value().is_empty() {
        errors.push(syn::Error::new(
            name.span(),
            "the span name must not be empty",
        ));
    }
    valid::validate(&args, Macro::Async, &mut errors);
    if let (Some(labels), None) = (&args.labels, &args.metric)
        && let Some(first) = labels.first()
    {
        errors.push(syn::Error::new(
            first.name.span(),
            "observe_async! records a metric only when given `metric = \"...\"`; \
                 labels without a metric would be dropped",
        ));
    }
    if args.metric.is_none() {
        let metric_options = [
            args.track_concurrency.as_ref(),
            args.objective.as_ref().map(|o| &o.key),
        ];
        for key in metric_options.into_iter().flatten() {
            errors.push(syn::Error::new(
                key.span(),
                format!(
                    "observe_async! records a metric only when given `metric = \"...\"`; \
                     `{key}` applies to that metric, so it needs one"
                ),
            ));
        }
    }
    errors.finish()?;

    let target = match &args.target {
        Some(target) => quote!(#target),
        None => quote!(::core::module_path!()),
    };
    let level = crate::instrument::level_tokens(args.level.as_ref());
    let fields = crate::fields::span_fields(&args, None);
    let mut callsite = crate::fields::callsite(&quote!(#name), &target, &level, &fields);
    callsite.extend(crate::registry::entry(&args, None));
    let values = crate::fields::values(&fields);
    Ok(quote! {{
        // Evaluated here, where the macro is written, like any other argument.
        let __observe_future = #future;
        let __observe_span = {
            #callsite
            match ::observe::__private::enabled(&__OBSERVE_CALLSITE) {
                // A root span whose record links to the spawner from its first line.
                ::core::option::Option::Some(__observe_on) => {
                    ::observe::__private::follow_current(|| __observe_on.child_span(
                        ::core::option::Option::None::<::observe::__private::tracing::Id>,
                        #values,
                    ))
                }
                ::core::option::Option::None => ::observe::__private::tracing::Span::none(),
            }
        };
        // Moved into the future: dropped with it (recording `cancelled`) if it never ends.
        let __observe_guard = ::observe::__private::OutcomeGuard::new(&__observe_span);
        ::observe::__private::tracing::Instrument::instrument(
            async move {
                let __observe_ret = __observe_future.await;
                if {
                    #[allow(unused_imports)]
                    use ::observe::__private::{IsErrOther as _, IsErrResult as _};
                    (&__observe_ret).__observe_is_err()
                } {
                    __observe_guard.finish_err();
                } else {
                    __observe_guard.finish_ok();
                }
                __observe_ret
            },
            __observe_span,
        )
    }})
}
