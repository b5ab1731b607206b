//! The span fields both macros declare (the recorded arguments, the user's `fields(...)`,
//! then the metric and outcome fields that are the contract with
//! `observe_runtime::fields`, and the `track_concurrency` marker of
//! `observe_runtime::observed`), and the span callsite built from them.
//!
//! The callsite is emitted directly rather than through `tracing::span!`: the macro's
//! `fieldset!` makes a `const` item (with a const-generic type) per field name to strip
//! `r#`, which we do here instead, so a span costs the compiler one `static` pair, one
//! array of names and one array of values.

use observe_fields::{
    FUNCTION_CALLS, FUNCTION_LABEL, IN_FLIGHT, METRIC_LABEL_PREFIX, METRIC_NAME, MODULE_LABEL,
    OTEL_KIND, OTEL_STATUS_CODE, RESULT,
};
use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt as _;
use syn::{Expr, Ident};

use crate::attr::{Args, Field, FieldName, Kind, LabelName};

/// A span field's name: known now (`a.b`, `r#` removed), or a `{ CONST }` expression.
pub(crate) enum Name {
    Known(String),
    Expr(Expr),
}

/// What a span field records when the span is created.
pub(crate) enum Value {
    /// Declared only (`tracing::field::Empty`), recorded later if at all.
    Empty,
    /// An expression recorded as a `Value`, with `Display` or with `Debug`.
    Expr(Kind, TokenStream),
    /// An argument binding recorded with `Debug` if its type implements it, and left
    /// empty otherwise (decided by autoref specialisation, `__private::Probe`).
    DebugIfImplemented(Ident),
}

pub(crate) struct SpanField {
    pub name: Name,
    pub value: Value,
}

impl SpanField {
    pub(crate) fn known(name: impl Into<String>, value: Value) -> SpanField {
        SpanField {
            name: Name::Known(name.into()),
            value,
        }
    }
}

/// The fields after the arguments: the user's `fields(...)`, the metric fields, then the
/// outcome fields. `function` is the instrumented function for `#[observe]` (which then
/// always records a metric, `function_calls` by default) and `None` for `observe_async!`
/// (which records a metric only when `metric` is given).
pub(crate) fn span_fields(args: &Args, function: Option<&Ident>) -> Vec<SpanField> {
    let mut out: Vec<SpanField> = args.fields.iter().flatten().map(user_field).collect();
    let lit = |s: &str| Value::Expr(Kind::Value, quote!(#s));
    match (&args.metric, function) {
        (Some(metric), _) => out.push(SpanField::known(METRIC_NAME, lit(&metric.value()))),
        (None, Some(function)) => {
            out.push(SpanField::known(METRIC_NAME, lit(FUNCTION_CALLS)));
            out.push(SpanField::known(
                format!("{METRIC_LABEL_PREFIX}{FUNCTION_LABEL}"),
                lit(&function.unraw().to_string()),
            ));
            out.push(SpanField::known(
                format!("{METRIC_LABEL_PREFIX}{MODULE_LABEL}"),
                Value::Expr(Kind::Value, quote!(::core::module_path!())),
            ));
        }
        (None, None) => {}
    }
    for label in args.labels.iter().flatten() {
        // A string name is rejected by validation; never expanded.
        if let LabelName::Ident(ident) = &label.name {
            let value = &label.value;
            out.push(SpanField::known(
                format!("{METRIC_LABEL_PREFIX}{}", ident.unraw()),
                Value::Expr(label.kind, quote!(#value)),
            ));
        }
    }
    if let Some(kind) = &args.otel_kind {
        out.push(SpanField::known(OTEL_KIND, lit(&kind.value())));
    }
    // Declared empty so that the outcome guard can record them on failure (a span can
    // only record fields it declared).
    out.push(SpanField::known(RESULT, Value::Empty));
    out.push(SpanField::known(OTEL_STATUS_CODE, Value::Empty));
    // `track_concurrency`: declared and never recorded, so that the runtime knows from the
    // callsite's metadata alone (`observe_fields::IN_FLIGHT`).
    if args.track_concurrency.is_some() {
        out.push(SpanField::known(IN_FLIGHT, Value::Empty));
    }
    out
}

/// A user field with `#[instrument]`'s meaning: `name` alone is declared empty, `%name` and
/// `?name` record the variable (or field path) `name`, `name = [%|?] value` records `value`.
fn user_field(field: &Field) -> SpanField {
    let name = match &field.name {
        FieldName::Dotted(parts) => Name::Known(
            parts
                .iter()
                .map(|p| p.unraw().to_string())
                .collect::<Vec<_>>()
                .join("."),
        ),
        FieldName::Expr(expr) => Name::Expr(expr.clone()),
    };
    let value = match (&field.value, &field.name) {
        (Some(value), _) => Value::Expr(field.kind, quote!(#value)),
        (None, _) if field.kind == Kind::Value => Value::Empty,
        (None, FieldName::Dotted(parts)) => Value::Expr(field.kind, quote!(#parts)),
        // `%{expr}` without a value: tracing rejects it as well; let rustc say so.
        (None, FieldName::Expr(expr)) => Value::Expr(field.kind, quote!(#expr)),
    };
    SpanField { name, value }
}

/// `static` callsite items named `__OBSERVE_CALLSITE` (and `__OBSERVE_META`) for a span.
pub(crate) fn callsite(
    name: &TokenStream,
    target: &TokenStream,
    level: &TokenStream,
    fields: &[SpanField],
) -> TokenStream {
    let names = fields.iter().map(|f| match &f.name {
        Name::Known(s) => quote!(#s),
        Name::Expr(e) => quote!(#e),
    });
    quote! {
        static __OBSERVE_META: ::observe::__private::Meta = ::observe::__private::span_meta(
            #name,
            #target,
            #level,
            ::core::file!(),
            ::core::line!(),
            ::core::module_path!(),
            &[#(#names),*],
            &__OBSERVE_CALLSITE,
        );
        static __OBSERVE_CALLSITE: ::observe::__private::Callsite =
            ::observe::__private::callsite(&__OBSERVE_META);
    }
}

/// `&[Some(&value), None, ..]`: the values for `Enabled::span`, one per field. An entry
/// for a [`Value::DebugIfImplemented`] argument needs [`probe_traits`] in scope.
pub(crate) fn values(fields: &[SpanField]) -> TokenStream {
    let values = fields.iter().map(|f| match &f.value {
        Value::Empty => quote!(::core::option::Option::None),
        // An `Option<DebugValue>`, itself a `Value` that records nothing when `None`.
        Value::DebugIfImplemented(ident) => quote!(::core::option::Option::Some(
            &(&::observe::__private::Probe(&#ident)).__observe_debug()
        )),
        Value::Expr(kind, expr) => {
            let expr = parenthesised(expr);
            let value = match kind {
                Kind::Value => quote!(&#expr),
                Kind::Display => quote!(&::observe::__private::tracing::field::display(&#expr)),
                Kind::Debug => quote!(&::observe::__private::tracing::field::debug(&#expr)),
            };
            quote!(::core::option::Option::Some(#value))
        }
    });
    quote!(&[#(#values),*])
}

/// Whether any field needs [`probe_traits`] in scope.
pub(crate) fn probes(fields: &[SpanField]) -> bool {
    fields
        .iter()
        .any(|f| matches!(f.value, Value::DebugIfImplemented(_)))
}

/// The `use` that brings the two `__observe_debug` methods into scope for [`values`].
pub(crate) fn probe_traits() -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use ::observe::__private::{DebugArg as _, NoDebugArg as _};
    }
}

/// `expr` ready to follow `&`: in parentheses unless it is a single token tree or a
/// path, field, call or method chain (which `&` cannot split).
fn parenthesised(expr: &TokenStream) -> TokenStream {
    match syn::parse2::<Expr>(expr.clone()) {
        Ok(
            Expr::Path(_)
            | Expr::Lit(_)
            | Expr::Field(_)
            | Expr::MethodCall(_)
            | Expr::Call(_)
            | Expr::Macro(_)
            | Expr::Paren(_)
            | Expr::Index(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
            | Expr::Block(_),
        ) => expr.clone(),
        _ => quote!((#expr)),
    }
}
