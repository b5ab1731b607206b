//! Parsing of the options of `#[observe(...)]` and `observe_async!(...)`.
//!
//! Parsing only checks syntax and keeps every token (with its span) so that `valid.rs` can
//! point at the offending one and the expansion can use what the user wrote. The grammar of
//! the `#[tracing::instrument]` options mirrors tracing-attributes 0.1.31 (`attr.rs`), so
//! code written for `#[instrument]` is accepted with the same meaning.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitInt, LitStr, Path, Token, braced, parenthesized};

use crate::suggest;

/// Which macro is being parsed: they accept different option sets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    Attribute,
    Async,
}

/// The options of `#[observe]`, in the order `tracing-attributes` documents them.
pub(crate) const ATTRIBUTE_OPTIONS: &[&str] = &[
    "metric",
    "labels",
    "otel_kind",
    "name",
    "target",
    "level",
    "skip",
    "skip_all",
    "fields",
    "err",
    "ret",
    "parent",
    "follows_from",
];

/// The options `observe_async!` takes after its name and future.
pub(crate) const ASYNC_OPTIONS: &[&str] =
    &["metric", "labels", "otel_kind", "fields", "level", "target"];

/// Every option, as parsed. `None` means not given.
#[derive(Default)]
pub(crate) struct Args {
    pub metric: Option<LitStr>,
    pub labels: Option<Vec<Label>>,
    pub otel_kind: Option<LitStr>,
    pub name: Option<StrOrIdent>,
    pub target: Option<StrOrIdent>,
    pub level: Option<Level>,
    pub skip: Option<Vec<Ident>>,
    pub skip_all: Option<Ident>,
    pub fields: Option<Vec<Field>>,
    pub err: Option<EventArgs>,
    pub ret: Option<EventArgs>,
    pub parent: Option<Expr>,
    pub follows_from: Option<Expr>,
}

impl Args {
    /// Parses a comma-separated option list until the input ends.
    pub(crate) fn parse_options(input: ParseStream<'_>, which: Macro) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
        let allowed = match which {
            Macro::Attribute => ATTRIBUTE_OPTIONS,
            Macro::Async => ASYNC_OPTIONS,
        };
        while !input.is_empty() {
            // `#[observe("name")]`: a bare string names the span, as `#[instrument]` allows.
            if input.peek(LitStr) && which == Macro::Attribute {
                let lit: LitStr = input.parse()?;
                if args.name.is_some() {
                    return Err(duplicate_name(lit.span()));
                }
                seen.push("name".to_owned());
                args.name = Some(StrOrIdent::Str(lit));
                if input.is_empty() {
                    break;
                }
                input
                    .parse::<Token![,]>()
                    .map_err(|e| syn::Error::new(e.span(), "expected `,` after the span name"))?;
                continue;
            }
            let key = input.call(Ident::parse_any).map_err(|e| {
                syn::Error::new(e.span(), format!("expected an option: {}", list(allowed)))
            })?;
            let key_str = key.unraw().to_string();
            if !allowed.contains(&key_str.as_str()) {
                return Err(unknown_option(&key, &key_str, which, allowed));
            }
            if key_str == "name" && args.name.is_some() {
                return Err(duplicate_name(key.span()));
            }
            if seen.contains(&key_str) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate option `{key_str}`: give it once"),
                ));
            }
            seen.push(key_str.clone());
            match key_str.as_str() {
                "metric" => args.metric = Some(parse_eq_lit(input, &key)?),
                "otel_kind" => args.otel_kind = Some(parse_eq_lit(input, &key)?),
                "labels" => args.labels = Some(parse_list(input, &key, Label::parse)?),
                "fields" => args.fields = Some(parse_list(input, &key, Field::parse)?),
                "name" => args.name = Some(parse_eq(input, &key)?),
                "target" => args.target = Some(parse_eq(input, &key)?),
                "level" => args.level = Some(parse_eq(input, &key)?),
                "parent" => args.parent = Some(parse_eq(input, &key)?),
                "follows_from" => args.follows_from = Some(parse_eq(input, &key)?),
                "skip" => {
                    if let Some(all) = &args.skip_all {
                        return Err(skip_conflict(&key, all));
                    }
                    args.skip = Some(parse_list(input, &key, Ident::parse_any)?);
                }
                "skip_all" => {
                    if args.skip.is_some() {
                        return Err(skip_conflict(&key, &key));
                    }
                    args.skip_all = Some(key);
                }
                "err" => args.err = Some(EventArgs::parse(input)?),
                "ret" => args.ret = Some(EventArgs::parse(input)?),
                _ => unreachable!("every allowed option is handled"),
            }
            if input.is_empty() {
                break;
            }
            input
                .parse::<Token![,]>()
                .map_err(|e| syn::Error::new(e.span(), "expected `,` between options"))?;
        }
        Ok(args)
    }
}

fn list(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_option(key: &Ident, key_str: &str, which: Macro, allowed: &[&str]) -> syn::Error {
    let what = match which {
        Macro::Attribute => "#[observe]",
        Macro::Async => "observe_async!",
    };
    let mut msg = format!("unknown option `{key_str}` for {what}");
    if let Some(near) = suggest::closest(key_str, allowed) {
        msg.push_str(&format!("; did you mean `{near}`?"));
    } else if which == Macro::Async && ATTRIBUTE_OPTIONS.contains(&key_str) {
        msg.push_str(": it applies to #[observe] on a function only");
    }
    msg.push_str(&format!("\nallowed options: {}", list(allowed)));
    syn::Error::new(key.span(), msg)
}

fn duplicate_name(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "the span name is given twice: a bare string (`#[observe(\"name\")]`) and \
         `name = ..` both name the span; give one of them",
    )
}

fn skip_conflict(key: &Ident, _other: &Ident) -> syn::Error {
    syn::Error::new(
        key.span(),
        "`skip` and `skip_all` exclude each other: give one of them",
    )
}

fn expect_eq(input: ParseStream<'_>, key: &Ident) -> syn::Result<()> {
    input
        .parse::<Token![=]>()
        .map(drop)
        .map_err(|e| syn::Error::new(e.span(), format!("expected `=` after `{}`", key.unraw())))
}

fn parse_eq<T: Parse>(input: ParseStream<'_>, key: &Ident) -> syn::Result<T> {
    expect_eq(input, key)?;
    input.parse()
}

fn parse_eq_lit(input: ParseStream<'_>, key: &Ident) -> syn::Result<LitStr> {
    expect_eq(input, key)?;
    if input.peek(LitStr) {
        return input.parse();
    }
    let found: TokenStream = input.fork().parse::<proc_macro2::TokenTree>()?.into();
    Err(syn::Error::new_spanned(
        found,
        format!(
            "`{}` takes a string literal, e.g. `{} = \"{}\"`",
            key.unraw(),
            key.unraw(),
            if key == "metric" {
                "db_query"
            } else {
                "client"
            }
        ),
    ))
}

fn parse_list<T>(
    input: ParseStream<'_>,
    key: &Ident,
    item: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "`{}` takes a parenthesised list: `{}(...)`",
                key.unraw(),
                key.unraw()
            ),
        ));
    }
    let content;
    parenthesized!(content in input);
    let items = Punctuated::<T, Token![,]>::parse_terminated_with(&content, item)?;
    Ok(items.into_iter().collect())
}

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
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
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
    fn parse_sigil(input: ParseStream<'_>) -> syn::Result<Option<Self>> {
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

/// One `labels(...)` entry: `name = expr`, `name = %expr`, `name = ?expr`, `name = "lit"`.
pub(crate) struct Label {
    /// The name as written; a string literal is accepted by the parser only so that the
    /// validator can say why it is not a label name.
    pub name: LabelName,
    pub kind: Kind,
    pub value: Expr,
}

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
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
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
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
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
