//! The registry entry of an observed function (`observe_runtime::observed::ObservedFn`): its
//! metric, its labels when every value is a literal, its objective and
//! `track_concurrency`, in a `static` next to the span's callsite, placed by linkme in the
//! registry's linker section.
//!
//! Labels are known in advance only when each value is a literal the runtime would render
//! the same way: a string (as is with a plain or `%` label, quoted with `?`), an integer
//! (in decimal), `true` or `false`. The default `function` and `module` labels always are.
//! Anything else (an argument, a constant, an expression) makes the entry's labels `None`:
//! its series appear with the first call.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt as _;
use syn::{Expr, Ident, Lit};

use crate::attr::{Args, Kind, Label, LabelName, ObjectiveArgs};
use crate::valid;

/// The entry for a span whose callsite is `__OBSERVE_CALLSITE` in the same scope.
/// `function` is the instrumented function (`#[observe]`, which always records a metric) or
/// `None` (`observe_async!`, which registers only when it has a `metric`).
pub(crate) fn entry(args: &Args, function: Option<&Ident>) -> TokenStream {
    let metric = match (&args.metric, function) {
        (Some(metric), _) => metric.value(),
        (None, Some(_)) => observe_fields::FUNCTION_CALLS.to_owned(),
        (None, None) => return TokenStream::new(),
    };
    let labels = match literal_labels(args, function) {
        Some(labels) => {
            let labels = labels.iter().map(|(name, value)| quote!((#name, #value)));
            quote!(::core::option::Option::Some(&[#(#labels),*]))
        }
        None => quote!(::core::option::Option::None),
    };
    let objective = match &args.objective {
        Some(objective) => {
            let objective = self::objective(objective);
            quote!(::core::option::Option::Some(&#objective))
        }
        None => quote!(::core::option::Option::None),
    };
    let track_concurrency = args.track_concurrency.is_some();
    quote! {
        #[::observe::__private::linkme::distributed_slice(::observe::__private::OBSERVE_0_FNS)]
        #[linkme(crate = ::observe::__private::linkme)]
        static __OBSERVE_ENTRY: ::observe::__private::ObservedFn = ::observe::__private::ObservedFn {
            callsite: &__OBSERVE_CALLSITE,
            metric: #metric,
            labels: #labels,
            objective: #objective,
            track_concurrency: #track_concurrency,
        };
    }
}

/// `(name, value)` for every label, in the span's order (the defaults, then `labels(..)`),
/// or `None` when a value is not known at compile time.
fn literal_labels(args: &Args, function: Option<&Ident>) -> Option<Vec<(String, TokenStream)>> {
    let mut out = Vec::new();
    if let (None, Some(function)) = (&args.metric, function) {
        let function = function.unraw().to_string();
        out.push((observe_fields::FUNCTION_LABEL.to_owned(), quote!(#function)));
        out.push((
            observe_fields::MODULE_LABEL.to_owned(),
            quote!(::core::module_path!()),
        ));
    }
    for label in args.labels.iter().flatten() {
        let LabelName::Ident(name) = &label.name else {
            return None;
        };
        let value = literal_value(label)?;
        out.push((name.unraw().to_string(), quote!(#value)));
    }
    Some(out)
}

/// The text the runtime would make of this label's value, if it is a literal.
fn literal_value(label: &Label) -> Option<String> {
    let mut expr = &label.value;
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    let Expr::Lit(lit) = expr else { return None };
    match &lit.lit {
        // A `&str` is recorded as is (also with `%`); with `?`, quoted and escaped.
        Lit::Str(s) if label.kind == Kind::Debug => Some(format!("{:?}", s.value())),
        Lit::Str(s) => Some(s.value()),
        // Integers and booleans read the same whichever way they are recorded.
        Lit::Int(i) if i.suffix().is_empty() || is_integer_suffix(i.suffix()) => {
            Some(i.base10_digits().to_owned())
        }
        Lit::Bool(b) => Some(b.value.to_string()),
        _ => None,
    }
}

fn is_integer_suffix(suffix: &str) -> bool {
    [
        "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "u128", "i128", "usize", "isize",
    ]
    .contains(&suffix)
}

/// `::observe::__private::Objective { .. }`, from a validated `objective(..)`.
fn objective(objective: &ObjectiveArgs) -> TokenStream {
    let name = objective.name.as_ref().map(syn::LitStr::value);
    let percent = |p| match valid::percent(p) {
        Ok(value) => valid::percent_label(value),
        Err(_) => unreachable!("validated"),
    };
    let success = match &objective.success {
        Some(success) => {
            let success = percent(success);
            quote!(::core::option::Option::Some(#success))
        }
        None => quote!(::core::option::Option::None),
    };
    let latency = match &objective.latency {
        Some(latency) => {
            let seconds = match valid::seconds(&latency.threshold.value()) {
                Ok(seconds) => proc_macro2::Literal::f64_suffixed(seconds),
                Err(_) => unreachable!("validated"),
            };
            let target = percent(&latency.percent);
            quote!(::core::option::Option::Some((#seconds, #target)))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::observe::__private::Objective {
            name: #name,
            success: #success,
            latency: #latency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(src: &str) -> Args {
        Args::parse_attribute(src.parse().unwrap()).unwrap()
    }

    fn labels(src: &str) -> Option<Vec<(String, String)>> {
        let f = Ident::new("save", proc_macro2::Span::call_site());
        literal_labels(&args(src), Some(&f)).map(|labels| {
            labels
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect()
        })
    }

    #[test]
    fn literal_labels_are_known() {
        let known =
            labels(r#"metric = "m", labels(a = "x", b = %"y", c = ?"q\"", d = 0x10, e = true)"#)
                .unwrap();
        let values: Vec<&str> = known.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [r#""x""#, r#""y""#, r#""\"q\\\"\"""#, r#""16""#, r#""true""#]
        );
        let defaults = labels("").unwrap();
        assert_eq!(defaults[0], ("function".into(), r#""save""#.into()));
        assert_eq!(defaults[1].0, "module");
    }

    #[test]
    fn other_labels_are_not() {
        assert!(labels("labels(a = self.table)").is_none());
        assert!(labels("labels(a = TABLE)").is_none());
        assert!(labels("labels(a = 1.5)").is_none());
        assert!(labels("labels(a = -1)").is_none());
        assert!(labels(r#"labels(a = "x", b = n)"#).is_none());
    }
}
