//! A strict OpenMetrics 1.0 check: the text goes through the Prometheus Python client's
//! parser (`prometheus_client.openmetrics.parser.text_string_to_metric_families`), the
//! reference implementation of the format, which rejects what promtool lets pass (a
//! missing `# EOF`, malformed or oversized exemplars, samples out of their family).
//!
//! Needs `python3` with the `prometheus-client` package; `scripts/install-deps.sh`
//! installs it. Without them [`parse_strict`] panics rather than report a pass or a
//! failure it did not check.
//!
//! ```
//! use observe_testkit::openmetrics::parse_strict;
//!
//! let text = "# TYPE calls counter\ncalls_total 3\n# EOF\n";
//! assert_eq!(parse_strict(text), Ok(()));
//! assert!(parse_strict("# TYPE calls counter\ncalls_total 3\n").is_err(), "no # EOF");
//! ```

use std::io::Write;
use std::process::{Command, Stdio};

/// Exit status the script uses when the parser itself is missing, to tell "not checked"
/// apart from "invalid".
const MISSING_PARSER: i32 = 3;

const SCRIPT: &str = r#"
import sys
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError as error:
    print(error, file=sys.stderr)
    sys.exit(3)
text = sys.stdin.buffer.read().decode("utf-8")
try:
    for _family in text_string_to_metric_families(text):
        pass
except Exception as error:
    print(f"{type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)
"#;

/// Parses `text` as OpenMetrics with the Prometheus Python client's strict parser.
///
/// # Errors
/// The parser's message (e.g. `ValueError: Missing # EOF at end`) when the text is not
/// valid OpenMetrics.
///
/// # Panics
/// When `python3` cannot be run or the `prometheus-client` package is not installed
/// (`scripts/install-deps.sh` installs it).
///
/// ```
/// let exemplar = "# TYPE d histogram\n\
///     d_bucket{le=\"+Inf\"} 1 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 0.5\n\
///     d_count 1\nd_sum 0.5\n# EOF\n";
/// assert_eq!(observe_testkit::openmetrics::parse_strict(exemplar), Ok(()));
/// ```
pub fn parse_strict(text: &str) -> Result<(), String> {
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("openmetrics::parse_strict: cannot run python3: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // The script reads all of stdin before it writes anything, so writing first cannot
    // deadlock. A write error means python exited early; its status says why.
    let _ = stdin.write_all(text.as_bytes());
    drop(stdin);
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("openmetrics::parse_strict: waiting for python3: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    match output.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(stderr),
        Some(MISSING_PARSER) => panic!(
            "openmetrics::parse_strict: python3 lacks prometheus_client ({stderr}); \
             run scripts/install-deps.sh"
        ),
        _ => panic!(
            "openmetrics::parse_strict: python3 failed ({}): {stderr}",
            output.status
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_strict;

    const VALID: &str = "\
# TYPE checkout_duration_seconds histogram
# UNIT checkout_duration_seconds seconds
# HELP checkout_duration_seconds Time spent in checkout.
checkout_duration_seconds_bucket{result=\"ok\",le=\"0.1\"} 1 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} 0.05 1700000000.123
checkout_duration_seconds_bucket{result=\"ok\",le=\"+Inf\"} 2
checkout_duration_seconds_count{result=\"ok\"} 2
checkout_duration_seconds_sum{result=\"ok\"} 0.55
# TYPE checkout counter
checkout_total{result=\"ok\"} 2 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} 1
# EOF
";

    #[test]
    fn a_valid_exposition_with_exemplars_passes() {
        assert_eq!(parse_strict(VALID), Ok(()));
    }

    #[test]
    fn a_missing_eof_is_refused() {
        let text = VALID.replace("# EOF\n", "");
        let error = parse_strict(&text).unwrap_err();
        assert!(error.contains("EOF"), "{error}");
    }

    #[test]
    fn an_exemplar_with_an_unquoted_trace_id_is_refused() {
        let text = VALID.replace(
            "trace_id=\"0af7651916cd43dd8448eb211c80319c\"",
            "trace_id=0af7651916cd43dd8448eb211c80319c",
        );
        let error = parse_strict(&text).unwrap_err();
        assert!(error.contains("Invalid labels"), "{error}");
    }

    #[test]
    fn an_exemplar_whose_trace_id_overflows_the_128_character_limit_is_refused() {
        let long = "0af7651916cd43dd8448eb211c80319c".repeat(4);
        let text = VALID.replace("0af7651916cd43dd8448eb211c80319c", &long);
        let error = parse_strict(&text).unwrap_err();
        assert!(error.contains("too long"), "{error}");
    }

    #[test]
    fn a_sample_outside_its_family_is_refused() {
        let text = VALID.replace("checkout_total{", "checkout_seconds_total{");
        assert!(parse_strict(&text).is_err());
    }
}
