//! `<metric>_in_flight`: how many calls of a `#[observe(track_concurrency)]` function are
//! in progress, by the labels the span has when it opens.
//!
//! A call takes an [`InFlightCall`] when its span opens and gives it back when the span
//! closes, which `tracing` does however the call ends: a return, an `Err`, a panic
//! (unwinding drops the span) or a cancelled future (dropping it drops its span). The count
//! lives on the label set's `result="ok"` series (see [`Series::enter`]), so a call costs
//! the series lookup its end makes anyway, and two atomic adds.

use std::sync::Arc;

use super::series::Series;

/// The gauge's name for a metric.
pub(crate) fn gauge_name(metric: &str) -> String {
    format!("{metric}_in_flight")
}

/// A call in progress: it counts in its label set's gauge until dropped.
#[derive(Debug)]
pub(crate) struct InFlightCall(Arc<Series>);

impl InFlightCall {
    pub(crate) fn start(series: Arc<Series>) -> InFlightCall {
        series.enter();
        InFlightCall(series)
    }

    /// The label set's `result="ok"` series, as the call found it when it started.
    pub(crate) fn ok_series(&self) -> &Series {
        &self.0
    }
}

impl Drop for InFlightCall {
    fn drop(&mut self) {
        self.0.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_counts_until_it_is_dropped() {
        let series = Arc::new(Series::new([0.1].into()));
        let first = InFlightCall::start(series.clone());
        let second = InFlightCall::start(series.clone());
        assert_eq!(series.in_flight(), 2);
        drop(first);
        assert_eq!(series.in_flight(), 1);
        drop(second);
        assert_eq!(series.in_flight(), 0);
    }
}
