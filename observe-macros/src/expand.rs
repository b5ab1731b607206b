//! `#[observe]`: parse the item, validate, and emit the function with its body
//! instrumented (`instrument.rs` for the span and events, `body.rs` for the body shapes).
//! An `impl` block goes to `impl_block.rs`, which comes back here for each method.
//!
//! The function is parsed only as far as needed: attributes, visibility and signature;
//! the body stays a token stream unless it may end in an async block (async-trait), so
//! each function costs one cheap parse.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::token::Brace;
use syn::{Attribute, Item, ItemFn, Signature, Visibility, braced};

use crate::attr::{Args, Macro};
use crate::body::{self, AsyncTail};
use crate::impl_block;
use crate::instrument::Instrument;
use crate::valid::{self, Errors};

pub(crate) fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    let expanded = if impl_block::is_impl(&item) {
        impl_block::expand(attr, item.clone())
    } else {
        expand(attr, item.clone())
    };
    match expanded {
        Ok(expanded) => expanded,
        // Emit the item unchanged next to the error so that callers of the function do
        // not pile up follow-on errors.
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item)
        }
    }
}

/// A function with its body left as tokens (tracing-attributes' `MaybeItemFn`).
pub(crate) struct FnItem {
    pub outer_attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    /// The body's braces, kept with their span: re-emitted around the instrumented body so
    /// that the function's span stays the user's (a function whose closing brace came from
    /// the macro would read as macro-made, and `dead_code` would no longer warn about it).
    pub brace: Brace,
    pub inner_attrs: Vec<Attribute>,
    pub body: TokenStream,
}

impl Parse for FnItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(FnItem {
            outer_attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            body,
        })
    }
}

impl FnItem {
    /// The function as it stands: its attributes, signature and body, inside its own braces.
    pub(crate) fn into_tokens(self) -> TokenStream {
        let FnItem {
            outer_attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            body,
        } = self;
        let mut function = quote!(#(#outer_attrs)* #vis #sig);
        brace.surround(&mut function, |inside| {
            inside.extend(quote!(#(#inner_attrs)* #body));
        });
        function
    }
}

fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let func = match syn::parse2::<FnItem>(item.clone()) {
        Ok(func) => func,
        Err(e) => return Err(parse_fn(item).err().unwrap_or(e)),
    };
    let mut errors = Errors::default();
    let args = match Args::parse_attribute(attr) {
        Ok(args) => Some(args),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let Some(constness) = &func.sig.constness {
        errors.push(const_fn(constness.span));
    }
    let Some(args) = args else {
        return Err(errors.finish().unwrap_err());
    };
    if let Some(ignore) = &args.ignore {
        errors.push(syn::Error::new(
            ignore.span(),
            "`ignore` opts a method out of the #[observe] on its impl block, and there is \
             none here: remove the attribute to leave the function unobserved",
        ));
    }
    valid::validate(&args, Macro::Attribute, &mut errors);
    valid::skips(&args, &func.sig, &mut errors);
    valid::argument_names(&args, &func.sig, &mut errors);
    errors.finish()?;
    Ok(instrument(&args, func))
}

/// The error for `#[observe]` on a `const fn` (or a `const fn` in an observed impl block
/// that asks for it with its own attribute).
pub(crate) fn const_fn(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[observe] cannot instrument a `const fn`: spans, metrics and clocks do not \
         exist during const evaluation; remove `const` or the attribute",
    )
}

/// The function with its body instrumented; `args` are valid for it.
pub(crate) fn instrument(args: &Args, mut func: FnItem) -> TokenStream {
    let inst = Instrument::new(args, &func.sig);
    let body = std::mem::take(&mut func.body);
    func.body = if func.sig.asyncness.is_some() {
        body::async_fn(&inst, &func.sig.output, body)
    } else if let Some(tail) = AsyncTail::find(&body) {
        tail.body(&inst, &func.sig.output)
    } else {
        body::sync_fn(&inst, &func.sig.output, body)
    };
    func.into_tokens()
}

/// The annotated item as a function with a body, or an error naming what it is instead
/// (called only when it is not a function with a body).
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
