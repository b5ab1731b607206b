//! `#[observe]` on an `impl` block: every function with a body in it is observed, with the
//! block's options merged with its own `#[observe(..)]` (`merge.rs`). Left as they are:
//! functions that opt out with `#[observe(ignore)]`, `const fn`s (nothing can be observed
//! during const evaluation; one that asks with its own `#[observe]` is an error),
//! functions without a body, and associated consts, types and macros.
//!
//! Inherent and trait impls alike, and `#[async_trait]` impls in either order: with
//! `#[observe]` above `#[async_trait]`, this runs first and instruments each `async fn` as
//! such (async-trait then boxes the instrumented body); below it, async-trait runs first
//! and each method's `Box::pin(async move { .. })` tail is instrumented, as for a lone
//! method.
//!
//! Only the block's outline is parsed: the header stays tokens, and so does each method's
//! body (parsed only when it may end in an async block), as for a lone function.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::discouraged::Speculative as _;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, FnArg, ImplItem, Meta, Path, Signature, braced};

use crate::attr::{Args, FieldName, Macro, StrOrIdent};
use crate::body;
use crate::expand::{self, FnItem};
use crate::merge;
use crate::valid::{self, Errors};

/// Whether the item is an `impl` block: past its attributes, `impl` (perhaps after
/// `unsafe` or `default`).
pub(crate) fn is_impl(item: &TokenStream) -> bool {
    let mut tokens = item.clone().into_iter();
    loop {
        match tokens.next() {
            // An outer attribute: `#` and its `[..]`.
            Some(TokenTree::Punct(p)) if p.as_char() == '#' => {
                tokens.next();
            }
            Some(TokenTree::Ident(i)) if i == "unsafe" || i == "default" => {}
            Some(TokenTree::Ident(i)) => return i == "impl",
            _ => return false,
        }
    }
}

/// An impl block: everything up to its body, kept as written, then its members.
struct ImplBlock {
    header: TokenStream,
    inner_attrs: Vec<Attribute>,
    members: Vec<Member>,
}

enum Member {
    /// A function with a body.
    Fn(Box<FnItem>),
    /// Anything else, re-emitted as written.
    Other(TokenStream),
}

impl Parse for ImplBlock {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // The body is the last token tree; braces earlier belong to the header (`{ N }`
        // const arguments).
        let mut header = TokenStream::new();
        loop {
            if input.peek(syn::token::Brace) {
                let after = input.fork();
                after.parse::<TokenTree>()?;
                if after.is_empty() {
                    break;
                }
            }
            if input.is_empty() {
                return Err(input.error("expected the impl block's body"));
            }
            header.extend([input.parse::<TokenTree>()?]);
        }
        let content;
        braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let mut members = Vec::new();
        while !content.is_empty() {
            let fork = content.fork();
            if let Ok(func) = fork.parse::<FnItem>() {
                content.advance_to(&fork);
                members.push(Member::Fn(Box::new(func)));
            } else {
                let item: ImplItem = content.parse()?;
                members.push(Member::Other(item.into_token_stream()));
            }
        }
        Ok(ImplBlock {
            header,
            inner_attrs,
            members,
        })
    }
}

/// The block with its methods observed. With an error in the block's options, its methods
/// are emitted as written (the error says what to fix); with an error in a method's, that
/// method is. Either way without their own `#[observe]`, which would otherwise expand on
/// its own and report again.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let ImplBlock {
        header,
        inner_attrs,
        members,
    } = syn::parse2(item)?;
    let mut errors = Errors::default();
    let block = match Args::parse_attribute(attr) {
        Ok(block) => {
            block_options(&block, &mut errors);
            valid::validate(&block, Macro::Attribute, &mut errors);
            errors.is_empty().then_some(block)
        }
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let mut params = Vec::new();
    let members: Vec<TokenStream> = members
        .into_iter()
        .map(|member| match (member, &block) {
            (Member::Fn(func), Some(block)) => method(block, *func, &mut params, &mut errors),
            (Member::Fn(mut func), None) => {
                let _ = take_own_attr(&mut func.outer_attrs);
                unchanged(*func)
            }
            (Member::Other(tokens), _) => tokens,
        })
        .collect();
    if let Some(block) = &block {
        block_skips(block, &params, &mut errors);
    }
    let errors = errors.finish().err().map(|e| e.to_compile_error());
    Ok(quote! {
        #errors
        #header {
            #(#inner_attrs)*
            #(#members)*
        }
    })
}

/// Options that mean nothing on a block.
fn block_options(block: &Args, errors: &mut Errors) {
    if let Some(name) = &block.name {
        let span = match name {
            StrOrIdent::Str(s) => s.span(),
            StrOrIdent::Ident(i) => i.span(),
        };
        errors.push(syn::Error::new(
            span,
            "a span name on an impl block would give every method's span that name: \
             each span is named after its method; to rename one, give `name` on that method",
        ));
    }
    if let Some(ignore) = &block.ignore {
        errors.push(syn::Error::new(
            ignore.span(),
            "`ignore` opts one method out of its impl block's #[observe]: write \
             `#[observe(ignore)]` on that method; to observe none, remove this attribute",
        ));
    }
}

/// One function of the block: observed with the merged options, or left as written.
fn method(
    block: &Args,
    mut func: FnItem,
    params: &mut Vec<String>,
    errors: &mut Errors,
) -> TokenStream {
    let own = match take_own_attr(&mut func.outer_attrs)
        .and_then(|own| own.map(Args::parse_attribute).transpose())
    {
        Ok(own) => own,
        Err(error) => {
            errors.push(error);
            return unchanged(func);
        }
    };
    if own.as_ref().is_some_and(|own| own.ignore.is_some()) {
        return unchanged(func);
    }
    if let Some(constness) = &func.sig.constness {
        if own.is_some() {
            errors.push(expand::const_fn(constness.span));
        }
        return unchanged(func);
    }
    params.extend(valid::param_names(&func.sig));
    let own = own.unwrap_or_default();
    let before = errors.len();
    valid::validate_method(&own, block, errors);
    valid::skips(&own, &func.sig, errors);
    let returns_result = block.err.is_none() || body::returns_result(&func.sig, &func.body);
    let merged = merge::merge(block, &own, returns_result);
    valid::argument_names(&merged, &func.sig, errors);
    needs_receiver(block, &own, &func.sig, errors);
    if errors.len() > before {
        return unchanged(func);
    }
    expand::instrument(&merged, func)
}

fn unchanged(func: FnItem) -> TokenStream {
    func.into_tokens()
}

/// Removes the method's own `#[observe(..)]` (`observe` or `observe::observe`) and returns
/// its options' tokens.
fn take_own_attr(attrs: &mut Vec<Attribute>) -> syn::Result<Option<TokenStream>> {
    let mut own: Option<syn::Result<TokenStream>> = None;
    let mut twice = None;
    attrs.retain(|attr| {
        if !is_observe(attr.path()) {
            return true;
        }
        if own.is_some() {
            twice.get_or_insert_with(|| {
                syn::Error::new_spanned(attr, "#[observe] is given twice on this method")
            });
        } else {
            own = Some(match &attr.meta {
                Meta::Path(_) => Ok(TokenStream::new()),
                Meta::List(list) => Ok(list.tokens.clone()),
                Meta::NameValue(value) => Err(syn::Error::new_spanned(
                    value,
                    "expected `#[observe]` or `#[observe(...)]`",
                )),
            });
        }
        false
    });
    if let Some(twice) = twice {
        return Err(twice);
    }
    own.transpose()
}

fn is_observe(path: &Path) -> bool {
    !path.segments.is_empty()
        && path.segments.len() <= 2
        && path.segments.iter().all(|s| s.ident == "observe")
}

/// A block's `labels`, `fields`, `parent` or `follows_from` that names `self` cannot apply
/// to an associated function without a receiver (unless the method replaces it).
fn needs_receiver(block: &Args, own: &Args, sig: &Signature, errors: &mut Errors) {
    if sig.receiver().is_some() || matches!(sig.inputs.first(), Some(FnArg::Receiver(_))) {
        return;
    }
    let mut uses: Vec<String> = Vec::new();
    for label in block.labels.iter().flatten() {
        let overridden = own
            .labels
            .iter()
            .flatten()
            .any(|l| l.name.value() == label.name.value());
        if !overridden && mentions_self(&label.value) {
            uses.push(format!("label `{}`", label.name.value()));
        }
    }
    for field in block.fields.iter().flatten() {
        let name = field.name.as_string();
        let overridden = name.as_ref().is_some_and(|name| {
            own.fields.iter().flatten().any(|f| {
                matches!(&f.name, FieldName::Dotted(_)) && f.name.as_string().as_ref() == Some(name)
            })
        });
        let value_uses = field.value.as_ref().is_some_and(mentions_self);
        let name_uses = matches!(&field.name, FieldName::Expr(e) if mentions_self(e));
        if !overridden && (value_uses || name_uses) {
            uses.push(format!("field `{}`", name.unwrap_or_else(|| "{..}".into())));
        }
    }
    for (option, block_value, own_value) in [
        ("parent", &block.parent, &own.parent),
        ("follows_from", &block.follows_from, &own.follows_from),
    ] {
        if own_value.is_none() && block_value.as_ref().is_some_and(mentions_self) {
            uses.push(format!("`{option}`"));
        }
    }
    let (list, verb) = match uses.as_slice() {
        [] => return,
        [one] => (one.clone(), "uses"),
        [init @ .., last] => (format!("{} and {last}", init.join(", ")), "use"),
    };
    errors.push(syn::Error::new(
        sig.ident.span(),
        format!(
            "`{}` has no `self` parameter, but the impl block's #[observe] gives it {list}, \
             which {verb} `self`: opt it out with `#[observe(ignore)]`, or give it its own \
             value in its own `#[observe(..)]`",
            sig.ident,
        ),
    ));
}

fn mentions_self(expr: &Expr) -> bool {
    fn tokens(stream: TokenStream) -> bool {
        stream.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == "self",
            TokenTree::Group(group) => tokens(group.stream()),
            _ => false,
        })
    }
    tokens(expr.to_token_stream())
}

/// A block's `skip(x)` must name a parameter of at least one observed method (a method
/// without it is simply not concerned).
fn block_skips(block: &Args, params: &[String], errors: &mut Errors) {
    use syn::ext::IdentExt as _;
    for skip in block.skip.iter().flatten() {
        let name = skip.unraw().to_string();
        if !params.contains(&name) {
            errors.push(syn::Error::new(
                skip.span(),
                format!("cannot skip `{name}`: no observed method of this impl block has a parameter `{name}`"),
            ));
        }
    }
}
