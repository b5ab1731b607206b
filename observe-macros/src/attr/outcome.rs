//! What decides and what promises a call's outcome: `ok_if` / `error_if` and `objective(..)`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitInt, LitStr, Token, parenthesized};

use super::{OBJECTIVE_KEYS, expect_eq};
use crate::suggest;

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
    pub(super) fn parse(input: ParseStream<'_>, key: Ident) -> syn::Result<Self> {
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
    pub(super) fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
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
