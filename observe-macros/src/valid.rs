//! Validation of parsed options: every rule of `docs/reference.md` ("#[observe]") that the
//! parser's grammar does not already enforce. Each error points at the offending token and
//! says what is allowed; all errors are collected so one build reports them all.

use observe_fields::{METRIC_LABEL_PREFIX, METRIC_NAME, OTEL_KIND, OTEL_STATUS_CODE};
use syn::ext::IdentExt as _;
use syn::{FnArg, Ident, Pat, Signature};

use crate::attr::{Args, EventArgs, Level, Macro, ObjectiveArgs, Percent};

/// The labels `#[observe]` adds itself when no `metric` is given (autometrics' names).
pub(crate) const DEFAULT_LABELS: &[&str] =
    &[observe_fields::FUNCTION_LABEL, observe_fields::MODULE_LABEL];

/// The namespace of the fields observe records itself ([`observe_fields::RESULT`],
/// [`observe_fields::IN_FLIGHT`]): a user field there would clash with them.
const OBSERVE_PREFIX: &str = "observe.";

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

    /// Whether there is no error so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// How many errors so far.
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |all| all.into_iter().count())
    }
}

pub(crate) fn validate(args: &Args, which: Macro, errors: &mut Errors) {
    let default_labels = which == Macro::Attribute && args.metric.is_none();
    validate_with(args, default_labels, errors);
}

/// A method's own options in an observed impl block: as [`validate`] does, knowing that
/// the block's `metric`, if any, applies (so `function` and `module` are not added).
pub(crate) fn validate_method(own: &Args, block: &Args, errors: &mut Errors) {
    let default_labels = own.metric.is_none() && block.metric.is_none();
    validate_with(own, default_labels, errors);
}

fn validate_with(args: &Args, default_labels: bool, errors: &mut Errors) {
    if let Some(metric) = &args.metric
        && let Err(msg) = metric_name(&metric.value())
    {
        errors.push(syn::Error::new(metric.span(), msg));
    }
    labels(args, default_labels, errors);
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
    if let Some(objective) = &args.objective {
        self::objective(objective, errors);
    }
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

fn labels(args: &Args, default_labels: bool, errors: &mut Errors) {
    let Some(labels) = &args.labels else { return };
    let mut seen: Vec<String> = Vec::new();
    // Without `metric`, `#[observe]` adds `function` and `module` itself.
    if default_labels {
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
        } else if observe_fields::RESERVED_LABELS.contains(&name.as_str()) || name.starts_with("__")
        {
            errors.push(syn::Error::new(
                span,
                format!(
                    "label name `{name}` is reserved: `le` and `quantile` belong to histograms \
                     and summaries, `result`, the `objective_*` labels and \
                     `otel_metric_overflow` are written by observe, and names starting with \
                     `__` are Prometheus-internal"
                ),
            ));
        } else if seen.contains(&name) {
            let why = if DEFAULT_LABELS.contains(&name.as_str()) && default_labels {
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
        let instead = if name == METRIC_NAME {
            Some("`metric = \"...\"`")
        } else if name.starts_with(METRIC_LABEL_PREFIX) {
            Some("`labels(...)`")
        } else if name == OTEL_KIND {
            Some("`otel_kind = \"...\"`")
        } else if name == OTEL_STATUS_CODE || name.starts_with(OBSERVE_PREFIX) {
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

/// `objective(...)`: a name, and a success target, a latency target, or both; each
/// percentage strictly between 0 and 100, the threshold a positive duration.
fn objective(objective: &ObjectiveArgs, errors: &mut Errors) {
    match &objective.name {
        None => errors.push(syn::Error::new(
            objective.key.span(),
            "an objective needs a `name`, shared by the functions that serve it: \
             `objective(name = \"api\", ..)`",
        )),
        Some(name) if name.value().trim().is_empty() => errors.push(syn::Error::new(
            name.span(),
            "the objective's `name` must not be empty: it names the objective in the \
             metrics' `objective_name` label, e.g. `name = \"api\"`",
        )),
        Some(_) => {}
    }
    if objective.success.is_none() && objective.latency.is_none() {
        errors.push(syn::Error::new(
            objective.key.span(),
            "an objective needs a target: `success = 99.9` (the percentage of calls that \
             must succeed), `latency = (\"250ms\", 99.0)` (a threshold and the percentage \
             of calls that must finish within it), or both",
        ));
    }
    if let Some(success) = &objective.success
        && let Err(msg) = percent(success)
    {
        errors.push(syn::Error::new_spanned(
            success,
            format!("`success` is the percentage of calls that must succeed: {msg}"),
        ));
    }
    if let Some(latency) = &objective.latency {
        if let Err(msg) = seconds(&latency.threshold.value()) {
            errors.push(syn::Error::new(latency.threshold.span(), msg));
        }
        if let Err(msg) = percent(&latency.percent) {
            errors.push(syn::Error::new_spanned(
                &latency.percent,
                format!(
                    "the second value of `latency` is the percentage of calls that must \
                     finish within the threshold: {msg}"
                ),
            ));
        }
    }
}

/// A percentage's value, strictly between 0 and 100: 100 would allow no failure and is
/// no objective a service can meet, 0 allows anything.
pub(crate) fn percent(percent: &Percent) -> Result<f64, String> {
    let value = match &percent.lit {
        syn::Lit::Float(f) => f.base10_parse::<f64>(),
        syn::Lit::Int(i) => i.base10_parse::<u64>().map(|v| v as f64),
        _ => unreachable!("the parser takes numbers only"),
    }
    .map_err(|e| e.to_string())?;
    let value = if percent.minus.is_some() {
        -value
    } else {
        value
    };
    if value.is_finite() && value > 0.0 && value < 100.0 {
        Ok(value)
    } else {
        Err(format!(
            "a number strictly between 0 and 100, e.g. `99.9` or `99`; found `{}`",
            quote::ToTokens::to_token_stream(percent)
                .to_string()
                .replace(' ', "")
        ))
    }
}

/// A percentage as the metrics' `objective_percentile` label writes it: as Rust writes the
/// `f64` (shortest form that reads back the same), so `99.0` and `99` are one objective.
pub(crate) fn percent_label(value: f64) -> String {
    format!("{value}")
}

/// `"250ms"`, `"1.5s"`, `"500us"` / `"500µs"` in seconds, converted as one decimal number
/// (`250e-3`), so that the `f64` is the one nearest to what was written: its `Display` is
/// then the threshold as written in seconds (`0.25`), as the histogram's `le` writes it.
pub(crate) fn seconds(text: &str) -> Result<f64, String> {
    const ALLOWED: &str = "a latency threshold is a positive number and a unit: \
                           `\"250ms\"`, `\"1.5s\"`, `\"500us\"` (or `\"500µs\"`)";
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if !number.chars().any(|c| c.is_ascii_digit()) || number.matches('.').count() > 1 {
        return Err(format!("{text:?} is not a duration: {ALLOWED}"));
    }
    let exponent = match unit.trim_start() {
        "s" => 0,
        "ms" => 3,
        "us" | "\u{b5}s" | "\u{3bc}s" => 6,
        "" => return Err(format!("{text:?} has no unit: {ALLOWED}")),
        other => return Err(format!("unknown unit {other:?} in {text:?}: {ALLOWED}")),
    };
    let seconds: f64 = format!("{number}e-{exponent}")
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: {ALLOWED}"))?;
    if seconds > 0.0 && seconds.is_finite() {
        Ok(seconds)
    } else {
        Err(format!("{text:?} is not positive: {ALLOWED}"))
    }
}

/// `skip(...)` names must be parameters of the function.
pub(crate) fn skips(args: &Args, sig: &Signature, errors: &mut Errors) {
    let Some(skips) = &args.skip else { return };
    let params = param_names(sig);
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
        let what = if name == METRIC_NAME {
            "the metric's name (set it with `metric = \"...\"`)"
        } else if name.starts_with(METRIC_LABEL_PREFIX) {
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

/// The names of every binding of the parameters (`self` included).
pub(crate) fn param_names(sig: &Signature) -> Vec<String> {
    bindings(sig)
        .iter()
        .map(|ident| ident.unraw().to_string())
        .collect()
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
    use super::{metric_name, percent_label, seconds};

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

    #[test]
    fn latency_thresholds() {
        assert_eq!(seconds("250ms"), Ok(0.25));
        assert_eq!(seconds("1.5s"), Ok(1.5));
        assert_eq!(seconds("500us"), Ok(0.0005));
        assert_eq!(seconds("500\u{b5}s"), Ok(0.0005));
        assert_eq!(seconds("2 s"), Ok(2.0));
        // The nearest f64 to the decimal written, so its Display is that decimal.
        assert_eq!(
            seconds("0.1ms").map(|s| s.to_string()).as_deref(),
            Ok("0.0001")
        );
        assert_eq!(
            seconds("100ms").map(|s| s.to_string()).as_deref(),
            Ok("0.1")
        );
        assert_eq!(
            seconds("30ms").map(|s| s.to_string()).as_deref(),
            Ok("0.03")
        );
        for bad in [
            "", "ms", "250", "250m", "-1s", "0ms", "1.2.3s", "1e3ms", ".s", "0.0s",
        ] {
            assert!(seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn percentile_labels() {
        assert_eq!(percent_label(99.9), "99.9");
        assert_eq!(percent_label(99.0), "99");
        assert_eq!(percent_label(99.99), "99.99");
        assert_eq!(percent_label(0.5), "0.5");
    }
}
