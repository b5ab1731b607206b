//! Validation of parsed options: every rule of `docs/reference.md` ("#[observe]") that the
//! parser's grammar does not already enforce. Each error points at the offending token and
//! says what is allowed; all errors are collected so one build reports them all.

use syn::ext::IdentExt as _;
use syn::{FnArg, Ident, Pat, Signature};

use crate::attr::{Args, EventArgs, Level, Macro};

/// The labels `#[observe]` adds itself when no `metric` is given (autometrics' names).
pub(crate) const DEFAULT_LABELS: &[&str] = &["function", "module"];

pub(crate) const OTEL_KINDS: &[&str] = &["server", "client", "producer", "consumer", "internal"];

const METRIC_SUFFIXES: &[&str] = &["_total", "_seconds", "_count", "_sum", "_bucket"];

/// Accumulates errors; `finish` folds them into one `syn::Error` (each keeps its span).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

pub(crate) fn validate(args: &Args, which: Macro, errors: &mut Errors) {
    if let Some(metric) = &args.metric
        && let Err(msg) = metric_name(&metric.value())
    {
        errors.push(syn::Error::new(metric.span(), msg));
    }
    labels(args, which, errors);
    if let Some(kind) = &args.otel_kind
        && !OTEL_KINDS.contains(&kind.value().as_str())
    {
        errors.push(syn::Error::new(
            kind.span(),
            format!(
                "unknown `otel_kind` {:?}: expected one of \"server\", \"client\", \
                     \"producer\", \"consumer\", \"internal\"",
                kind.value()
            ),
        ));
    }
    if let Some(level) = &args.level {
        self::level(level, errors);
    }
    for event in [&args.err, &args.ret].into_iter().flatten() {
        self::event(event, errors);
    }
    fields(args, errors);
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*` without a suffix the exporter adds itself.
fn metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if !valid {
        return Err(format!(
            "invalid metric name {name:?}: a Prometheus metric name matches \
             [a-zA-Z_:][a-zA-Z0-9_:]* (letters, digits, `_` and `:`, not starting with a digit)"
        ));
    }
    if let Some(suffix) = METRIC_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        let base = &name[..name.len() - suffix.len()];
        return Err(format!(
            "metric name {name:?} ends in `{suffix}`: the suffix is added for you \
             (`{base}_total` and `{base}_duration_seconds` are recorded); \
             write `metric = {base:?}`"
        ));
    }
    Ok(())
}

fn labels(args: &Args, which: Macro, errors: &mut Errors) {
    let Some(labels) = &args.labels else { return };
    let mut seen: Vec<String> = Vec::new();
    // Without `metric`, `#[observe]` adds `function` and `module` itself.
    if which == Macro::Attribute && args.metric.is_none() {
        seen.extend(DEFAULT_LABELS.iter().map(|s| s.to_string()));
    }
    for label in labels {
        let name = label.name.value();
        let span = label.name.span();
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if matches!(label.name, crate::attr::LabelName::Str(_)) || !valid {
            errors.push(syn::Error::new(
                span,
                format!(
                    "invalid label name {name:?}: a label name is an identifier matching \
                     [a-zA-Z_][a-zA-Z0-9_]*, written without quotes: `labels(table = ...)`"
                ),
            ));
        } else if ["le", "quantile", "result"].contains(&name.as_str()) || name.starts_with("__") {
            errors.push(syn::Error::new(
                span,
                format!(
                    "label name `{name}` is reserved: `le` and `quantile` belong to histograms \
                     and summaries, `result` is recorded for you (ok/error), and names starting \
                     with `__` are Prometheus-internal"
                ),
            ));
        } else if seen.contains(&name) {
            let why = if DEFAULT_LABELS.contains(&name.as_str()) && args.metric.is_none() {
                " (without `metric`, `function` and `module` are added for you)"
            } else {
                ""
            };
            errors.push(syn::Error::new(
                span,
                format!("duplicate label `{name}`: each label is given once{why}"),
            ));
        }
        seen.push(name);
    }
}

fn level(level: &Level, errors: &mut Errors) {
    const MSG: &str = "expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\" \
                       (any case), a number 1-5, or a `tracing::Level`";
    match level {
        Level::Str(s) => {
            let v = s.value().to_ascii_lowercase();
            if !["trace", "debug", "info", "warn", "error"].contains(&v.as_str()) {
                errors.push(syn::Error::new(
                    s.span(),
                    format!("unknown level {:?}: {MSG}", s.value()),
                ));
            }
        }
        Level::Int(i) => {
            if !matches!(i.base10_parse::<u8>(), Ok(1..=5)) {
                errors.push(syn::Error::new(
                    i.span(),
                    format!("unknown level {i}: {MSG}"),
                ));
            }
        }
        Level::Path(_) => {}
    }
}

fn event(event: &EventArgs, errors: &mut Errors) {
    if let Some(level) = &event.level {
        self::level(level, errors);
    }
    if let Some(mode) = &event.mode
        && mode != "Display"
        && mode != "Debug"
    {
        errors.push(syn::Error::new(
            mode.span(),
            format!("unknown format mode `{mode}`: expected `Display` or `Debug`"),
        ));
    }
}

/// Field names the expansion writes itself may not be given in `fields(...)`.
fn fields(args: &Args, errors: &mut Errors) {
    for field in args.fields.iter().flatten() {
        let Some(name) = field.name.as_string() else {
            continue;
        };
        let instead = if name == "metric_name" {
            Some("`metric = \"...\"`")
        } else if name.starts_with("metric_label_") {
            Some("`labels(...)`")
        } else if name == "otel.kind" {
            Some("`otel_kind = \"...\"`")
        } else if name == "otel.status_code" || name.starts_with("observe.") {
            Some("nothing: it is recorded for you when the call fails")
        } else {
            None
        };
        if let Some(instead) = instead {
            let span = match &field.name {
                crate::attr::FieldName::Dotted(parts) => parts
                    .first()
                    .map_or_else(proc_macro2::Span::call_site, Ident::span),
                crate::attr::FieldName::Expr(_) => unreachable!(),
            };
            errors.push(syn::Error::new(
                span,
                format!("field `{name}` is written by #[observe]; use {instead}"),
            ));
        }
    }
}

/// `skip(...)` names must be parameters of the function.
pub(crate) fn skips(args: &Args, sig: &Signature, errors: &mut Errors) {
    let Some(skips) = &args.skip else { return };
    let params: Vec<String> = bindings(sig)
        .into_iter()
        .map(|ident| ident.unraw().to_string())
        .collect();
    let mut seen = Vec::new();
    for skip in skips {
        let name = skip.unraw().to_string();
        if !params.contains(&name) {
            let known = if params.is_empty() {
                "the function has no parameters".to_owned()
            } else {
                format!(
                    "its parameters are {}",
                    params
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            errors.push(syn::Error::new(
                skip.span(),
                format!(
                    "cannot skip `{name}`: it is not a parameter of `{}`; {known}",
                    sig.ident
                ),
            ));
        } else if seen.contains(&name) {
            errors.push(syn::Error::new(
                skip.span(),
                format!("`{name}` is skipped twice"),
            ));
        }
        seen.push(name);
    }
}

/// Arguments are recorded under their own names; a name the expansion writes itself
/// (`metric_name`, `metric_label_*`) would give the span two fields of that name, one of
/// which replaces the other in every layer (a stray `metric_label_*` even becomes a
/// metric label). Refuse it unless the argument is skipped. (`otel.*` and `observe.*`
/// contain a dot, which an argument name cannot.)
pub(crate) fn argument_names(args: &Args, sig: &Signature, errors: &mut Errors) {
    if args.skip_all.is_some() {
        return;
    }
    let skips = args.skip.as_deref().unwrap_or_default();
    for ident in bindings(sig) {
        let name = ident.unraw().to_string();
        if skips.iter().any(|s| s.unraw() == name) {
            continue;
        }
        let what = if name == "metric_name" {
            "the metric's name (set it with `metric = \"...\"`)"
        } else if name.starts_with("metric_label_") {
            "a metric label (`metric_label_<k>` fields are the metric's labels; \
             set them with `labels(k = ...)`)"
        } else {
            continue;
        };
        errors.push(syn::Error::new(
            ident.span(),
            format!(
                "argument `{name}` would be recorded as span field `{name}`, which \
                 #[observe] writes itself: {what}; rename the argument, or leave it out \
                 of the span with `skip({name})`"
            ),
        ));
    }
}

/// Every binding of the parameters: `self`, and each identifier in the patterns.
fn bindings(sig: &Signature) -> Vec<Ident> {
    let mut out = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => out.push(Ident::new("self", r.self_token.span)),
            FnArg::Typed(pat) => collect_idents(&pat.pat, &mut out),
        }
    }
    out
}

fn collect_idents(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => out.push(p.ident.clone()),
        Pat::Reference(p) => collect_idents(&p.pat, out),
        Pat::Struct(p) => p.fields.iter().for_each(|f| collect_idents(&f.pat, out)),
        Pat::Tuple(p) => p.elems.iter().for_each(|p| collect_idents(p, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|p| collect_idents(p, out)),
        Pat::Type(p) => collect_idents(&p.pat, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::metric_name;

    #[test]
    fn metric_names() {
        assert!(metric_name("db_event").is_ok());
        assert!(metric_name("ns:db_event").is_ok());
        assert!(metric_name("_x1").is_ok());
        assert!(metric_name("").is_err());
        assert!(metric_name("1db").is_err());
        assert!(metric_name("db-event").is_err());
        assert!(metric_name("db_event_total").is_err());
        assert!(metric_name("latency_seconds").is_err());
    }
}
