//! "Did you mean …?" for misspelled option names.
//!
//! Option names are short, so a plain Levenshtein distance with a length-scaled cut-off
//! catches the usual slips (`metrics`, `label`, `feilds`, `otelkind`) without suggesting
//! something unrelated for a name that is simply wrong.

/// The closest of `candidates` to `typed`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let typed_lower = typed.to_ascii_lowercase();
    candidates
        .iter()
        .map(|&candidate| (distance(&typed_lower, candidate), candidate))
        .filter(|&(d, candidate)| d <= (candidate.len() / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein edit distance (insert, delete, substitute), over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[&str] = &["metric", "labels", "otel_kind", "fields", "level", "err"];

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("metrics", OPTIONS), Some("metric"));
        assert_eq!(closest("Metric", OPTIONS), Some("metric"));
        assert_eq!(closest("label", OPTIONS), Some("labels"));
        assert_eq!(closest("feilds", OPTIONS), Some("fields"));
        assert_eq!(closest("otelkind", OPTIONS), Some("otel_kind"));
        assert_eq!(closest("histogram", OPTIONS), None);
    }

    #[test]
    fn distance_basics() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("same", "same"), 0);
    }
}
