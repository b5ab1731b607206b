//! Parsing of the options of `#[observe(...)]` and `observe_async!(...)`.
//!
//! Parsing only checks syntax and keeps every token (with its span) so that `valid.rs` can
//! point at the offending one and the expansion can use what the user wrote. The grammar of
//! the `#[tracing::instrument]` options mirrors tracing-attributes 0.1.31 (`attr.rs`), so
//! code written for `#[instrument]` is accepted with the same meaning.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token, parenthesized};

use crate::suggest;

mod fields;
mod outcome;
mod values;

pub(crate) use fields::{Field, FieldName, Label, LabelName};
pub(crate) use outcome::{ObjectiveArgs, OutcomeRule, Percent};
pub(crate) use values::{EventArgs, Kind, Level, StrOrIdent};

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
    /// The options of an `#[observe(..)]` attribute, from its tokens.
    pub(crate) fn parse_attribute(tokens: TokenStream) -> syn::Result<Self> {
        syn::parse::Parser::parse2(
            |input: ParseStream<'_>| Args::parse_options(input, Macro::Attribute),
            tokens,
        )
    }

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
                    if let Some(_all) = &args.skip_all {
                        return Err(skip_conflict(&key));
                    }
                    args.skip = Some(parse_list(input, &key, Ident::parse_any)?);
                }
                "skip_all" => {
                    if args.skip.is_some() {
                        return Err(skip_conflict(&key));
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

fn skip_conflict(key: &Ident) -> syn::Error {
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
