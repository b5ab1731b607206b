//! The values of single options: names and targets, levels, `err` / `ret`, and the `%` / `?` recording kinds.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitInt, LitStr, Path, Token, parenthesized};

use super::parse_eq;

/// `name = "..."` and `target = "..."` accept a string literal or a constant's name.
#[derive(Clone)]
pub(crate) enum StrOrIdent {
    Str(LitStr),
    Ident(Ident),
}

impl Parse for StrOrIdent {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            input.parse().map(StrOrIdent::Str)
        } else if input.peek(Ident) {
            input.parse().map(StrOrIdent::Ident)
        } else {
            Err(input.error("expected a string literal or the name of a `&'static str` constant"))
        }
    }
}

impl ToTokens for StrOrIdent {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            StrOrIdent::Str(s) => s.to_tokens(tokens),
            StrOrIdent::Ident(i) => i.to_tokens(tokens),
        }
    }
}

/// `level = "info"`, `level = 3` or `level = Level::INFO` (tracing accepts all three).
#[derive(Clone)]
pub(crate) enum Level {
    Str(LitStr),
    Int(LitInt),
    Path(Path),
}

impl Parse for Level {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(LitStr) {
            input.parse().map(Level::Str)
        } else if lookahead.peek(LitInt) {
            input.parse().map(Level::Int)
        } else if lookahead.peek(Ident) || lookahead.peek(Token![::]) {
            input.parse().map(Level::Path)
        } else {
            Err(input
                .error("expected a level: \"trace\", \"debug\", \"info\", \"warn\" or \"error\""))
        }
    }
}

impl ToTokens for Level {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Level::Str(s) => s.to_tokens(tokens),
            Level::Int(i) => i.to_tokens(tokens),
            Level::Path(p) => p.to_tokens(tokens),
        }
    }
}

/// The parenthesised part of `err(...)` / `ret(...)`: a format mode and/or a level.
#[derive(Clone, Default)]
pub(crate) struct EventArgs {
    pub level: Option<Level>,
    pub mode: Option<Ident>,
}

impl EventArgs {
    pub(super) fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = EventArgs::default();
        if !input.peek(syn::token::Paren) {
            return Ok(args);
        }
        let content;
        parenthesized!(content in input);
        while !content.is_empty() {
            let ident = content.call(Ident::parse_any)?;
            if ident == "level" {
                if args.level.is_some() {
                    return Err(syn::Error::new(ident.span(), "duplicate `level`"));
                }
                args.level = Some(parse_eq(&content, &ident)?);
            } else {
                if args.mode.is_some() {
                    return Err(syn::Error::new(
                        ident.span(),
                        "expected only one format mode, `Display` or `Debug`",
                    ));
                }
                args.mode = Some(ident);
            }
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

impl ToTokens for EventArgs {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let mut inner = Vec::new();
        if let Some(mode) = &self.mode {
            inner.push(quote!(#mode));
        }
        if let Some(level) = &self.level {
            inner.push(quote!(level = #level));
        }
        if !inner.is_empty() {
            tokens.extend(quote!(( #(#inner),* )));
        }
    }
}

/// How a field or label value is recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Value,
    Display,
    Debug,
}

impl Kind {
    pub(super) fn parse_sigil(input: ParseStream<'_>) -> syn::Result<Option<Self>> {
        if input.peek(Token![%]) {
            input.parse::<Token![%]>()?;
            Ok(Some(Kind::Display))
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
            Ok(Some(Kind::Debug))
        } else {
            Ok(None)
        }
    }
}

impl ToTokens for Kind {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Kind::Value => {}
            Kind::Display => tokens.extend(quote!(%)),
            Kind::Debug => tokens.extend(quote!(?)),
        }
    }
}
