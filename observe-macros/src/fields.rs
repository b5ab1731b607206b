//! The span fields both macros declare: the user's `fields(...)`, then the metric and
//! outcome fields that are the contract with `observe_runtime::fields`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::attr::{Args, Field, Kind, LabelName};

/// The field list for the span. `function` is the instrumented function for `#[observe]`
/// (which then always records a metric, `function_calls` by default) and `None` for
/// `observe_async!` (which records a metric only when `metric` is given).
pub(crate) fn span_fields(args: &Args, function: Option<&Ident>) -> Vec<TokenStream> {
    let mut out: Vec<TokenStream> = args.fields.iter().flatten().map(user_field).collect();

    let metric_name = args.metric.as_ref().map(|m| m.value());
    match (&metric_name, function) {
        (Some(metric), _) => out.push(quote!(metric_name = #metric)),
        (None, Some(function)) => {
            let function = function.to_string();
            let function = function.trim_start_matches("r#");
            out.push(quote!(metric_name = "function_calls"));
            out.push(quote!(metric_label_function = #function));
            out.push(quote!(metric_label_module = ::core::module_path!()));
        }
        (None, None) => {}
    }
    for label in args.labels.iter().flatten() {
        let name = match &label.name {
            LabelName::Ident(ident) => format_ident!(
                "metric_label_{}",
                syn::ext::IdentExt::unraw(ident),
                span = ident.span()
            ),
            // Rejected by validation; never expanded.
            LabelName::Str(_) => continue,
        };
        let kind = &label.kind;
        let value = &label.value;
        out.push(quote!(#name = #kind #value));
    }
    if let Some(kind) = &args.otel_kind {
        out.push(quote!(otel.kind = #kind));
    }
    // Declared empty so that the outcome guard can record them on failure (a span can
    // only record fields it declared).
    out.push(quote!(observe.result = ::observe::__private::EMPTY));
    out.push(quote!(otel.status_code = ::observe::__private::EMPTY));
    out
}

/// The single-segment names among the metric fields `#[observe]` adds: a parameter of the
/// same name is not recorded (tracing-attributes lets a field replace a parameter).
pub(crate) fn own_field_names(args: &Args) -> Vec<String> {
    let mut names = vec!["metric_name".to_owned()];
    if args.metric.is_none() {
        names.extend([
            "metric_label_function".to_owned(),
            "metric_label_module".to_owned(),
        ]);
    }
    for label in args.labels.iter().flatten() {
        names.push(format!("metric_label_{}", label.name.value()));
    }
    names
}

/// A user field, re-emitted as written for `span!`. In `span!` a bare `name` means "the
/// local variable `name`", whereas in `#[instrument(fields(name))]` it means "declared,
/// recorded later" (`Empty`); both macros keep the `#[instrument]` meaning.
fn user_field(field: &Field) -> TokenStream {
    if field.value.is_none() && field.kind == Kind::Value {
        let name = &field.name;
        return quote!(#name = ::observe::__private::EMPTY);
    }
    quote!(#field)
}
