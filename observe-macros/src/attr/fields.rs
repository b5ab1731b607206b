//! `labels(..)` entries and `fields(..)` entries, in `#[instrument]`'s grammar.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt as _;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token, braced};

use super::Kind;

/// One `labels(...)` entry: `name = expr`, `name = %expr`, `name = ?expr`, `name = "lit"`.
#[derive(Clone)]
pub(crate) struct Label {
    /// The name as written; a string literal is accepted by the parser only so that the
    /// validator can say why it is not a label name.
    pub name: LabelName,
    pub kind: Kind,
    pub value: Expr,
}

#[derive(Clone)]
pub(crate) enum LabelName {
    Ident(Ident),
    Str(LitStr),
}

impl LabelName {
    pub(crate) fn value(&self) -> String {
        match self {
            LabelName::Ident(i) => i.unraw().to_string(),
            LabelName::Str(s) => s.value(),
        }
    }

    pub(crate) fn span(&self) -> Span {
        match self {
            LabelName::Ident(i) => i.span(),
            LabelName::Str(s) => s.span(),
        }
    }
}

impl Label {
    pub(super) fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = if input.peek(LitStr) {
            LabelName::Str(input.parse()?)
        } else {
            LabelName::Ident(
                input
                    .call(Ident::parse_any)
                    .map_err(|e| syn::Error::new(e.span(), "expected a label: `name = value`"))?,
            )
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "label `{}` needs a value: `{0} = expr`, `{0} = %expr` (Display), \
                     `{0} = ?expr` (Debug) or `{0} = \"literal\"`",
                    name.value()
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        let kind = Kind::parse_sigil(input)?.unwrap_or(Kind::Value);
        let value = input.parse()?;
        Ok(Label { name, kind, value })
    }
}

/// One `fields(...)` entry, with tracing's grammar: an optional sigil, a dotted name or a
/// `{expr}` name, then optionally `= [%|?] value`.
#[derive(Clone)]
pub(crate) struct Field {
    pub name: FieldName,
    pub kind: Kind,
    pub value: Option<Expr>,
}

#[derive(Clone)]
pub(crate) enum FieldName {
    Dotted(Punctuated<Ident, Token![.]>),
    Expr(Expr),
}

impl FieldName {
    /// The dotted name as a string (`otel.kind`), or `None` for a computed `{expr}` name.
    pub(crate) fn as_string(&self) -> Option<String> {
        match self {
            FieldName::Dotted(parts) => Some(
                parts
                    .iter()
                    .map(|p| p.unraw().to_string())
                    .collect::<Vec<_>>()
                    .join("."),
            ),
            FieldName::Expr(_) => None,
        }
    }
}

impl ToTokens for FieldName {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            FieldName::Dotted(parts) => parts.to_tokens(tokens),
            FieldName::Expr(expr) => tokens.extend(quote!({ #expr })),
        }
    }
}

impl Field {
    pub(super) fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut kind = Kind::parse_sigil(input)?.unwrap_or(Kind::Value);
        let name = if input.peek(syn::token::Brace) {
            let content;
            braced!(content in input);
            FieldName::Expr(content.parse()?)
        } else {
            FieldName::Dotted(Punctuated::parse_separated_nonempty_with(
                input,
                Ident::parse_any,
            )?)
        };
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if let Some(k) = Kind::parse_sigil(input)? {
                kind = k;
            }
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Field { name, kind, value })
    }
}

impl ToTokens for Field {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let Field { name, kind, value } = self;
        match value {
            Some(value) => tokens.extend(quote!(#name = #kind #value)),
            None => tokens.extend(quote!(#kind #name)),
        }
    }
}
