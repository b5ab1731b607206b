//! `ok_if` and `error_if` decide the outcome `#[observe]` records: the `result` label the
//! metrics signal counts (through `Metrics::layer()`), and the span's `observe.result` and
//! `otel.status_code`, in sync and async functions, with and without `err`. Each function
//! under a rule is compared with the same function without it.

// Public fixtures: the macros are exercised on public items, as users write them.
#![allow(missing_docs)]

#[path = "support/capture.rs"]
mod capture;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use capture::{block_on, capture_with_metrics as observed};
use observe::observe;
use tracing::Level;

#[derive(Debug)]
pub enum ApiError {
    NotFound,
    Internal,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiError::NotFound => "not found",
            ApiError::Internal => "internal",
        })
    }
}

fn lookup(id: u32) -> Result<u32, ApiError> {
    match id {
        0 => Err(ApiError::NotFound),
        1 => Err(ApiError::Internal),
        n => Ok(n),
    }
}

fn not_found(r: &Result<u32, ApiError>) -> bool {
    matches!(r, Err(ApiError::NotFound))
}

/// Calls of the predicates of `get_counted` and `find_counted` (one test calls those).
static OK_IF_CALLS: AtomicUsize = AtomicUsize::new(0);
static ERROR_IF_CALLS: AtomicUsize = AtomicUsize::new(0);

#[observe(ok_if = |r| OK_IF_CALLS.fetch_add(1, Ordering::SeqCst) < usize::MAX && not_found(r))]
fn get_counted(id: u32) -> Result<u32, ApiError> {
    lookup(id)
}

#[observe(error_if = |r| ERROR_IF_CALLS.fetch_add(1, Ordering::SeqCst) < usize::MAX
    && matches!(r, Ok(None)))]
fn find_counted(id: u32) -> Result<Option<u32>, ApiError> {
    find(id)
}

const LIMIT: u32 = 100;

#[observe(metric = "get_plain")]
fn get_plain(id: u32) -> Result<u32, ApiError> {
    lookup(id)
}

#[observe(metric = "get_ok_if", ok_if = not_found)]
fn get_ok_if(id: u32) -> Result<u32, ApiError> {
    lookup(id)
}

#[observe(metric = "get_logged", ok_if = |r| matches!(r, Err(ApiError::NotFound)), err)]
fn get_logged(id: u32) -> Result<u32, ApiError> {
    let n = lookup(id)?;
    Ok(n)
}

#[observe(metric = "find", error_if = |r| matches!(r, Ok(None)))]
fn find(id: u32) -> Result<Option<u32>, ApiError> {
    if id == 1 {
        return Err(ApiError::Internal);
    }
    Ok((id > 1).then_some(id))
}

#[observe(metric = "count", error_if = |n| *n > LIMIT)]
fn count(n: u32) -> u32 {
    n
}

#[observe(metric = "get_async", ok_if = not_found)]
async fn get_async(id: u32) -> Result<u32, ApiError> {
    tokio::task::yield_now().await;
    lookup(id)
}

#[observe(metric = "find_async", error_if = |r| matches!(r, Ok(None)), err)]
async fn find_async(id: u32) -> Result<Option<u32>, ApiError> {
    tokio::task::yield_now().await;
    find(id)
}

#[async_trait::async_trait]
pub trait Store {
    async fn load(&self, id: u32) -> Result<u32, ApiError>;
}

pub struct Remote;

#[async_trait::async_trait]
impl Store for Remote {
    #[observe(metric = "load", ok_if = |r| matches!(r, Err(ApiError::NotFound)))]
    async fn load(&self, id: u32) -> Result<u32, ApiError> {
        lookup(id)
    }
}

/// The `<metric>_total{result="..."}` count, 0 when the series is absent.
fn total(text: &str, metric: &str, result: &str) -> u64 {
    let prefix = format!("{metric}_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn ok_if_counts_a_matching_err_as_ok() {
    let ((), text, captured) = observed(|| {
        for id in [0, 1, 2] {
            let _ = get_plain(id);
            let _ = get_ok_if(id);
        }
    });
    // Without the rule: both `Err`s are errors.
    assert_eq!(total(&text, "get_plain", "ok"), 1, "{text}");
    assert_eq!(total(&text, "get_plain", "error"), 2, "{text}");
    // With it: `NotFound` is ok, `Internal` still an error.
    assert_eq!(total(&text, "get_ok_if", "ok"), 2, "{text}");
    assert_eq!(total(&text, "get_ok_if", "error"), 1, "{text}");

    let spans: Vec<_> = captured
        .spans()
        .into_iter()
        .filter(|s| s.name == "get_ok_if")
        .collect();
    let results: Vec<(Option<&str>, Option<&str>)> = spans
        .iter()
        .map(|s| (s.field("observe.result"), s.field("otel.status_code")))
        .collect();
    assert_eq!(
        results,
        [(None, None), (Some("error"), Some("ERROR")), (None, None)],
        "NotFound records nothing, as a success does"
    );
}

#[test]
fn predicates_run_only_when_they_can_change_the_outcome() {
    let ((), _, _) = observed(|| {
        let _ = get_counted(5);
        let _ = get_counted(6);
        let _ = find_counted(1);
    });
    assert_eq!(
        OK_IF_CALLS.load(Ordering::SeqCst),
        0,
        "`ok_if` is not asked about an `Ok`"
    );
    assert_eq!(
        ERROR_IF_CALLS.load(Ordering::SeqCst),
        0,
        "nor `error_if` about an `Err`"
    );
    let ((), text, _) = observed(|| {
        let _ = get_counted(0);
        let _ = find_counted(0);
    });
    assert_eq!(OK_IF_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(ERROR_IF_CALLS.load(Ordering::SeqCst), 1);
    assert!(
        text.contains(r#"function_calls_total{function="get_counted",module="outcome_rules",result="ok"} 1"#)
            && text.contains(r#"function_calls_total{function="find_counted",module="outcome_rules",result="error"} 1"#),
        "{text}"
    );
}

#[test]
fn error_if_counts_a_matching_return_as_an_error() {
    let ((), text, captured) = observed(|| {
        for id in [0, 1, 2, 3] {
            let _ = find(id);
        }
        count(3);
        count(LIMIT + 1);
    });
    // `Ok(None)` (0) and `Err` (1) are errors; `Ok(Some(_))` (2, 3) ok.
    assert_eq!(total(&text, "find", "ok"), 2, "{text}");
    assert_eq!(total(&text, "find", "error"), 2, "{text}");
    // Not a `Result` at all: the predicate alone decides.
    assert_eq!(total(&text, "count", "ok"), 1, "{text}");
    assert_eq!(total(&text, "count", "error"), 1, "{text}");
    let over = captured
        .spans()
        .into_iter()
        .rfind(|s| s.name == "count")
        .unwrap();
    assert_eq!(over.field("observe.result"), Some("error"));
    assert_eq!(over.field("otel.status_code"), Some("ERROR"));
}

#[test]
fn err_still_logs_an_err_that_ok_if_counts_as_ok() {
    let (_, text, captured) = observed(|| get_logged(0));
    assert_eq!(total(&text, "get_logged", "ok"), 1, "{text}");
    let span = captured.span("get_logged");
    assert_eq!(span.field("observe.result"), None);
    assert_eq!(span.field("otel.status_code"), None);
    // `err` keeps #[instrument]'s meaning: every `Err` is logged.
    assert_eq!(span.events.len(), 1, "{:?}", span.events);
    assert_eq!(span.events[0].level, Level::ERROR);
    assert_eq!(span.events[0].fields.get("error"), Some("not found"));
}

#[test]
fn rules_apply_to_async_fns_and_async_trait_methods() {
    let ((), text, captured) = observed(|| {
        block_on(async {
            for id in [0, 1, 2] {
                let _ = get_async(id).await;
                let _ = find_async(id).await;
                let _ = Remote.load(id).await;
            }
        })
    });
    assert_eq!(total(&text, "get_async", "ok"), 2, "{text}");
    assert_eq!(total(&text, "get_async", "error"), 1, "{text}");
    assert_eq!(total(&text, "load", "ok"), 2, "{text}");
    assert_eq!(total(&text, "load", "error"), 1, "{text}");
    // find: 0 is `Ok(None)` (error by the rule), 1 `Err`, 2 ok.
    assert_eq!(total(&text, "find_async", "ok"), 1, "{text}");
    assert_eq!(total(&text, "find_async", "error"), 2, "{text}");
    // `err` logs the `Err` (1) only: `Ok(None)` has no error value to log.
    let logged: Vec<usize> = captured
        .spans()
        .iter()
        .filter(|s| s.name == "find_async")
        .map(|s| s.events.len())
        .collect();
    assert_eq!(logged, [0, 1, 0]);
}
