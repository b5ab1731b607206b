//! `#[observe]`: parse the item, validate, and emit the function with its body wrapped
//! for outcome recording and a `#[tracing::instrument]` attribute carrying every option.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::{AttrStyle, Item, ItemFn, LitStr};

use crate::attr::{Args, Macro};
use crate::body::{self, AsyncTail, GuardIdentity};
use crate::fields::span_fields;
use crate::valid::{self, Errors};

pub(crate) fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr, item.clone()) {
        Ok(expanded) => expanded,
        // Emit the item unchanged next to the error so that callers of the function do
        // not pile up follow-on errors.
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let func = parse_fn(item)?;
    let mut errors = Errors::default();
    let args =
        match (|input: syn::parse::ParseStream<'_>| Args::parse_options(input, Macro::Attribute))
            .parse2(attr)
        {
            Ok(args) => Some(args),
            Err(e) => {
                errors.push(e);
                None
            }
        };
    if let Some(constness) = &func.sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            "#[observe] cannot instrument a `const fn`: spans, metrics and clocks do not \
             exist during const evaluation; remove `const` or the attribute",
        ));
    }
    let Some(args) = args else {
        return Err(errors.finish().unwrap_err());
    };
    valid::validate(&args, Macro::Attribute, &mut errors);
    valid::skips(&args, &func.sig, &mut errors);
    errors.finish()?;

    let id = GuardIdentity {
        name: match &args.name {
            Some(name) => name.to_token_stream(),
            None => {
                LitStr::new(&func.sig.ident.to_string(), func.sig.ident.span()).into_token_stream()
            }
        },
        target: match &args.target {
            Some(target) => target.to_token_stream(),
            None => quote!(::core::module_path!()),
        },
    };
    let instrument = instrument_args(&args, &func);

    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &func;
    let (inner_attrs, outer_attrs): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let body = if sig.asyncness.is_some() {
        body::async_fn_body(block, &sig.output, &id)
    } else if let Some(tail) = AsyncTail::find(block) {
        tail.body(block, &sig.output, &id)
    } else {
        body::sync_body(block, &sig.output, &id)
    };
    Ok(quote! {
        #[::observe::__private::tracing::instrument(#instrument)]
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #body
        }
    })
}

/// The options for `#[tracing::instrument]`, in the one order its parser (0.1.31) always
/// accepts: it rejects `parent` and `follows_from` after `target`, so those come first.
fn instrument_args(args: &Args, func: &ItemFn) -> TokenStream {
    let mut out = Vec::new();
    if let Some(name) = &args.name {
        out.push(quote!(name = #name));
    }
    if let Some(parent) = &args.parent {
        out.push(quote!(parent = #parent));
    }
    if let Some(follows_from) = &args.follows_from {
        out.push(quote!(follows_from = #follows_from));
    }
    if let Some(target) = &args.target {
        out.push(quote!(target = #target));
    }
    if let Some(level) = &args.level {
        out.push(quote!(level = #level));
    }
    if let Some(skips) = &args.skip {
        out.push(quote!(skip(#(#skips),*)));
    }
    if args.skip_all.is_some() {
        out.push(quote!(skip_all));
    }
    let fields = span_fields(args, Some(&func.sig.ident));
    out.push(quote!(fields(#(#fields),*)));
    if let Some(err) = &args.err {
        out.push(quote!(err #err));
    }
    if let Some(ret) = &args.ret {
        out.push(quote!(ret #ret));
    }
    quote!(#(#out),*)
}

/// The annotated item as a function with a body, or an error naming what it is instead.
fn parse_fn(item: TokenStream) -> syn::Result<ItemFn> {
    let fn_error = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => return Ok(func),
        Err(e) => e,
    };
    let item = match syn::parse2::<Item>(item) {
        Ok(item) => item,
        // Not an item at all: rustc reports the syntax error itself.
        Err(_) => return Err(fn_error),
    };
    let (what, span): (&str, Span) = match &item {
        Item::Struct(i) => ("a struct", i.struct_token.span),
        Item::Enum(i) => ("an enum", i.enum_token.span),
        Item::Union(i) => ("a union", i.union_token.span),
        Item::Impl(i) => ("an impl block", i.impl_token.span),
        Item::Trait(i) => ("a trait", i.trait_token.span),
        Item::Mod(i) => ("a module", i.mod_token.span),
        Item::Const(i) => ("a constant", i.const_token.span),
        Item::Static(i) => ("a static", i.static_token.span),
        Item::Type(i) => ("a type alias", i.type_token.span),
        Item::Use(i) => ("a use declaration", i.use_token.span),
        Item::Macro(i) => ("a macro invocation", i.mac.path.segments[0].ident.span()),
        Item::Verbatim(tokens) if tokens.to_string().contains("fn ") => {
            return Err(syn::Error::new_spanned(
                tokens,
                "#[observe] needs a function with a body; on a trait method, put it on the \
                 method in each impl (or on a default body)",
            ));
        }
        other => ("this item", other_span(other)),
    };
    Err(syn::Error::new(
        span,
        format!("#[observe] can only be applied to a function or method, not {what}"),
    ))
}

fn other_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
