//! What observe loses, counted and said: spans dropped from a full queue, exports that
//! failed. Each failure is counted; the first of a run of failures is logged at once, the
//! next ones at most once a minute (with how many there were), and the recovery once.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tracing_core::dispatcher::WeakDispatch;

/// How often a lasting failure is logged again.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The failures of one signal's exports.
#[derive(Debug)]
pub(crate) struct ExportFailures {
    /// `traces`, `metrics` or `logs`: the `signal` label.
    signal: &'static str,
    /// Where exports go, for the log line (credentials never included).
    destination: String,
    failed: AtomicU64,
    /// Items (spans, points, records) in the failed exports.
    lost: AtomicU64,
    run: Mutex<Run>,
    /// The application's dispatcher, to log through (the export thread has none of its own,
    /// so that the exporter's own telemetry goes nowhere).
    dispatch: OnceLock<WeakDispatch>,
}

#[derive(Debug, Default)]
struct Run {
    /// Failures since the last success.
    failures: u64,
    last_logged: Option<Instant>,
    /// Failures not logged since `last_logged`.
    unlogged: u64,
}

impl ExportFailures {
    pub(crate) fn new(signal: &'static str, destination: String) -> Self {
        ExportFailures {
            signal,
            destination,
            failed: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            run: Mutex::new(Run::default()),
            dispatch: OnceLock::new(),
        }
    }

    /// Exports that failed so far.
    pub(crate) fn count(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Items lost in failed exports so far.
    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Logs through `dispatch` from now on.
    pub(crate) fn log_to(&self, dispatch: WeakDispatch) {
        let _ = self.dispatch.set(dispatch);
    }

    /// An export of `items` (spans, points, records) failed with `error`.
    pub(crate) fn failed(&self, items: usize, error: &dyn fmt::Display) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.lost.fetch_add(items as u64, Ordering::Relaxed);
        let mut run = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        run.failures += 1;
        let due = run.last_logged.is_none_or(|at| at.elapsed() >= LOG_EVERY);
        if !due {
            run.unlogged += 1;
            return;
        }
        let unlogged = std::mem::take(&mut run.unlogged);
        run.last_logged = Some(Instant::now());
        let first = run.failures == 1;
        drop(run);
        let (signal, destination) = (self.signal, &self.destination);
        let message = if first {
            format!(
                "exporting {items} {signal} items to {destination} failed: {error}; they are \
                 lost (counted in observe_exports_failed_total{{signal=\"{signal}\"}}); further \
                 failures are logged at most once a minute"
            )
        } else {
            format!(
                "exporting {signal} to {destination} still fails ({unlogged} more failed \
                 exports since the last report); the last one, of {items} items: {error}"
            )
        };
        self.log(true, &message);
    }

    /// An export succeeded: a run of failures, if there was one, is over.
    pub(crate) fn succeeded(&self) {
        let mut run = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        if run.failures == 0 {
            return;
        }
        let failures = std::mem::take(&mut *run).failures;
        drop(run);
        let message = format!(
            "exporting {} to {} works again after {failures} failed exports",
            self.signal, self.destination
        );
        self.log(false, &message);
    }

    #[cold]
    fn log(&self, warn: bool, message: &str) {
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
        match dispatch {
            Some(dispatch) => tracing::dispatcher::with_default(&dispatch, || {
                if warn {
                    tracing::warn!(target: "observe_runtime::export", signal = self.signal, "{message}");
                } else {
                    tracing::info!(target: "observe_runtime::export", signal = self.signal, "{message}");
                }
            }),
            None => eprintln!("observe: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_counts_and_a_run_is_logged_once_a_minute() {
        let failures = ExportFailures::new("traces", "http://127.0.0.1:1".into());
        for _ in 0..5 {
            failures.failed(3, &"connection refused");
        }
        assert_eq!(failures.count(), 5);
        let run = failures.run.lock().unwrap();
        assert_eq!(run.failures, 5);
        assert_eq!(run.unlogged, 4, "only the first was logged");
        drop(run);
        failures.succeeded();
        assert_eq!(failures.run.lock().unwrap().failures, 0);
        assert_eq!(failures.count(), 5, "the count stays");
    }
}
