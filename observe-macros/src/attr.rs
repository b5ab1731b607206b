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
    "ok_if",
    "error_if",
    "track_concurrency",
    "objective",
    "ignore",
];

/// The options `observe_async!` takes after its name and future.
pub(crate) const ASYNC_OPTIONS: &[&str] = &[
    "metric",
    "labels",
    "otel_kind",
    "fields",
    "level",
    "target",
    "track_concurrency",
    "objective",
];

/// The keys of `objective(...)`.
pub(crate) const OBJECTIVE_KEYS: &[&str] = &["name", "success", "latency"];

/// Every option, as parsed. `None` means not given.
#[derive(Clone, Default)]
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
    /// `ok_if = ..` or `error_if = ..` (they exclude each other).
    pub outcome_rule: Option<OutcomeRule>,
    pub track_concurrency: Option<Ident>,
    pub objective: Option<ObjectiveArgs>,
    /// `ignore`: opts a method out of its impl block's `#[observe]`.
    pub ignore: Option<Ident>,
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
                "ok_if" | "error_if" => {
                    if let Some(other) = &args.outcome_rule {
                        return Err(outcome_rule_conflict(&key, other));
                    }
                    let predicate = parse_eq(input, &key)?;
                    args.outcome_rule = Some(OutcomeRule {
                        ok_if: key_str == "ok_if",
                        key,
                        predicate,
                        inherited: false,
                    });
                }
                "track_concurrency" => args.track_concurrency = Some(key),
                "objective" => args.objective = Some(ObjectiveArgs::parse(input, key)?),
                "ignore" => args.ignore = Some(key),
                _ => unreachable!("every allowed option is handled"),
            }
            if input.is_empty() {
                break;
            }
            input
                .parse::<Token![,]>()
                .map_err(|e| syn::Error::new(e.span(), "expected `,` between options"))?;
        }
        if let Some(ignore) = &args.ignore
            && seen.len() > 1
        {
            return Err(syn::Error::new(
                ignore.span(),
                "`ignore` opts this method out of its impl block's #[observe] altogether: \
                 give it alone, `#[observe(ignore)]`",
            ));
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

fn outcome_rule_conflict(key: &Ident, first: &OutcomeRule) -> syn::Error {
    syn::Error::new(
        key.span(),
        format!(
            "`ok_if` and `error_if` exclude each other (`{}` is already given): `ok_if` \
             turns some `Err` returns into ok, `error_if` turns some other returns into \
             errors; give one predicate that says both",
            first.key
        ),
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

/// `ok_if = predicate` or `error_if = predicate`: a path or closure taking `&ReturnType`
/// and returning `bool`, which decides the call's outcome instead of `Err` alone.
#[derive(Clone)]
pub(crate) struct OutcomeRule {
    /// `ok_if` (a `true` makes an `Err` ok) rather than `error_if` (a `true` makes any
    /// return an error).
    pub ok_if: bool,
    /// The option's name as written, for errors.
    pub key: Ident,
    pub predicate: Expr,
    /// Given on the method's impl block rather than on the method (`merge.rs`).
    pub inherited: bool,
}

/// `objective(name = "api", success = 99.9, latency = ("250ms", 99.0))`, as written;
/// `valid.rs` checks the values and converts them.
#[derive(Clone)]
pub(crate) struct ObjectiveArgs {
    /// The `objective` key, where an incomplete objective is reported.
    pub key: Ident,
    pub name: Option<LitStr>,
    pub success: Option<Percent>,
    pub latency: Option<Latency>,
}

/// `latency = ("250ms", 99.0)`: a threshold and the share of calls within it.
#[derive(Clone)]
pub(crate) struct Latency {
    pub threshold: LitStr,
    pub percent: Percent,
}

/// A percentage as written: a number, perhaps negated (to be refused by validation with
/// a better message than the parser's).
#[derive(Clone)]
pub(crate) struct Percent {
    pub minus: Option<Token![-]>,
    pub lit: syn::Lit,
}

impl ToTokens for Percent {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.minus.to_tokens(tokens);
        self.lit.to_tokens(tokens);
    }
}

impl Parse for Percent {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let minus = input.parse()?;
        let lit = if input.peek(syn::LitFloat) || input.peek(LitInt) {
            input.parse()?
        } else {
            return Err(input.error(
                "expected a percentage of calls, a number between 0 and 100 such as `99.9`",
            ));
        };
        Ok(Percent { minus, lit })
    }
}

impl ObjectiveArgs {
    fn parse(input: ParseStream<'_>, key: Ident) -> syn::Result<Self> {
        const USAGE: &str = "e.g. `objective(name = \"api\", success = 99.9, \
                             latency = (\"250ms\", 99.0))`";
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                key.span(),
                format!("`objective` takes a parenthesised list, {USAGE}"),
            ));
        }
        let content;
        parenthesized!(content in input);
        let mut objective = ObjectiveArgs {
            key,
            name: None,
            success: None,
            latency: None,
        };
        let mut seen: Vec<String> = Vec::new();
        while !content.is_empty() {
            let item = content.call(Ident::parse_any).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected `name`, `success` or `latency`, {USAGE}"),
                )
            })?;
            let item_str = item.unraw().to_string();
            if !OBJECTIVE_KEYS.contains(&item_str.as_str()) {
                let mut msg = format!("unknown `objective` key `{item_str}`");
                if let Some(near) = suggest::closest(&item_str, OBJECTIVE_KEYS) {
                    msg.push_str(&format!("; did you mean `{near}`?"));
                }
                msg.push_str(&format!(
                    "\nit takes `name`, `success` and `latency`, {USAGE}"
                ));
                return Err(syn::Error::new(item.span(), msg));
            }
            if seen.contains(&item_str) {
                return Err(syn::Error::new(
                    item.span(),
                    format!("`{item_str}` is given twice in `objective`"),
                ));
            }
            seen.push(item_str.clone());
            expect_eq(&content, &item)?;
            match item_str.as_str() {
                "name" => {
                    objective.name = Some(content.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "the objective's `name` is a string literal, e.g. `name = \"api\"`",
                        )
                    })?)
                }
                "success" => objective.success = Some(content.parse()?),
                "latency" => objective.latency = Some(Latency::parse(&content)?),
                _ => unreachable!("every objective key is handled"),
            }
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>().map_err(|e| {
                syn::Error::new(e.span(), "expected `,` between the keys of `objective`")
            })?;
        }
        Ok(objective)
    }
}

impl Latency {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        const USAGE: &str = "`latency` takes a threshold and the percentage of calls that \
                             must finish within it, e.g. `latency = (\"250ms\", 99.0)`";
        if !input.peek(syn::token::Paren) {
            return Err(input.error(USAGE));
        }
        let content;
        parenthesized!(content in input);
        let threshold: LitStr = content
            .parse()
            .map_err(|e| syn::Error::new(e.span(), USAGE))?;
        content
            .parse::<Token![,]>()
            .map_err(|e| syn::Error::new(e.span(), USAGE))?;
        let percent = content.parse()?;
        content.parse::<Option<Token![,]>>()?;
        if !content.is_empty() {
            return Err(content.error(USAGE));
        }
        Ok(Latency { threshold, percent })
    }
}
