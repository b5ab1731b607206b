//! How a method's own `#[observe(..)]` combines with its impl block's `#[observe(..)]`.
//!
//! | options | rule |
//! | --- | --- |
//! | `metric`, `otel_kind`, `target`, `level`, `err`, `ret`, `parent`, `follows_from`, `objective` | the method's replaces the block's |
//! | `ok_if` / `error_if` | one rule: the method's (either) replaces the block's (either) |
//! | `labels(..)`, `fields(..)` | merged by name, the method's value winning; the block's first, in its order, then the method's new ones |
//! | `skip(..)` | the union; `skip_all` on either side skips all |
//! | `track_concurrency` | on if either gives it |
//! | `name` | the method's only (refused on the block: every span would share it) |
//!
//! Two adjustments keep a block's options valid for every method: the block's `err` applies
//! only to the methods whose return type is named like a `Result` (`Result<..>`,
//! `io::Result<..>`, `DbResult<..>`: `err` matches on `Ok` / `Err`), and the block's
//! `ok_if` is marked as inherited so that it is silently moot, rather than an error, on a
//! method that cannot return `Err`.

use crate::attr::{Args, FieldName};

/// The options of one method: `block`'s, overridden and extended by `method`'s.
/// `returns_result`: the method's return type is named like a `Result`.
pub(crate) fn merge(block: &Args, method: &Args, returns_result: bool) -> Args {
    let block_err = block.err.clone().filter(|_| returns_result);
    let outcome_rule = match (&method.outcome_rule, &block.outcome_rule) {
        (Some(own), _) => Some(own.clone()),
        (None, Some(inherited)) => {
            let mut inherited = inherited.clone();
            inherited.inherited = true;
            Some(inherited)
        }
        (None, None) => None,
    };
    let skip_all = pick(&method.skip_all, &block.skip_all);
    let skip = match (&block.skip, &method.skip) {
        _ if skip_all.is_some() => None,
        (None, None) => None,
        (block, method) => {
            let mut union = block.clone().unwrap_or_default();
            for ident in method.iter().flatten() {
                if !union.contains(ident) {
                    union.push(ident.clone());
                }
            }
            Some(union)
        }
    };
    Args {
        metric: pick(&method.metric, &block.metric),
        labels: by_name(&block.labels, &method.labels, |l| Some(l.name.value())),
        otel_kind: pick(&method.otel_kind, &block.otel_kind),
        name: method.name.clone(),
        target: pick(&method.target, &block.target),
        level: pick(&method.level, &block.level),
        skip,
        skip_all,
        fields: by_name(&block.fields, &method.fields, |f| match &f.name {
            FieldName::Dotted(_) => f.name.as_string(),
            // A computed name cannot be compared: kept, as written.
            FieldName::Expr(_) => None,
        }),
        err: method.err.clone().or(block_err),
        ret: pick(&method.ret, &block.ret),
        parent: pick(&method.parent, &block.parent),
        follows_from: pick(&method.follows_from, &block.follows_from),
        outcome_rule,
        track_concurrency: pick(&method.track_concurrency, &block.track_concurrency),
        objective: pick(&method.objective, &block.objective),
        ignore: None,
    }
}

/// The method's value if it gives one, else the block's.
fn pick<T: Clone>(method: &Option<T>, block: &Option<T>) -> Option<T> {
    method.clone().or_else(|| block.clone())
}

/// `block`'s entries with `method`'s replacing those of the same name, then `method`'s
/// others, in order; `name` is `None` for an entry that cannot be compared.
fn by_name<T: Clone>(
    block: &Option<Vec<T>>,
    method: &Option<Vec<T>>,
    name: impl Fn(&T) -> Option<String>,
) -> Option<Vec<T>> {
    let (block, method) = match (block, method) {
        (None, None) => return None,
        (Some(only), None) | (None, Some(only)) => return Some(only.clone()),
        (Some(block), Some(method)) => (block, method),
    };
    let same = |a: &T, b: &T| name(a).is_some_and(|a| name(b).is_some_and(|b| a == b));
    let mut out: Vec<T> = block
        .iter()
        .map(|entry| {
            method
                .iter()
                .find(|own| same(own, entry))
                .unwrap_or(entry)
                .clone()
        })
        .collect();
    out.extend(
        method
            .iter()
            .filter(|own| !block.iter().any(|entry| same(own, entry)))
            .cloned(),
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(src: &str) -> Args {
        Args::parse_attribute(src.parse().unwrap()).unwrap()
    }

    fn label_names(args: &Args) -> Vec<String> {
        args.labels
            .iter()
            .flatten()
            .map(|l| {
                let value = &l.value;
                format!("{}={}", l.name.value(), quote::quote!(#value))
            })
            .collect()
    }

    #[test]
    fn labels_merge_by_name_method_wins() {
        let merged = merge(
            &args(r#"labels(a = "1", b = "2")"#),
            &args(r#"labels(b = "3", c = "4")"#),
            true,
        );
        assert_eq!(label_names(&merged), [r#"a="1""#, r#"b="3""#, r#"c="4""#]);
    }

    #[test]
    fn scalars_override_and_skips_union() {
        let merged = merge(
            &args(r#"metric = "block", level = "debug", skip(a), err"#),
            &args(r#"metric = "own", skip(b)"#),
            true,
        );
        assert_eq!(merged.metric.unwrap().value(), "own");
        assert!(merged.level.is_some() && merged.err.is_some());
        let skips: Vec<String> = merged.skip.unwrap().iter().map(|i| i.to_string()).collect();
        assert_eq!(skips, ["a", "b"]);
        let all = merge(&args("skip_all"), &args("skip(b)"), true);
        assert!(all.skip_all.is_some() && all.skip.is_none());
    }

    #[test]
    fn block_err_and_ok_if_adapt_to_the_method() {
        let block = args("err, ok_if = is_missing, track_concurrency");
        let plain = merge(&block, &args(""), false);
        assert!(
            plain.err.is_none(),
            "no `err` for a method without `Result`"
        );
        assert!(plain.outcome_rule.unwrap().inherited);
        assert!(plain.track_concurrency.is_some());
        let own = merge(&block, &args("error_if = is_empty"), true);
        let rule = own.outcome_rule.unwrap();
        assert!(!rule.ok_if && !rule.inherited);
    }
}
