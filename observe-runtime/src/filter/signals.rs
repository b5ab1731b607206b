//! [`SignalSet`]: which of the three signals take a span or an event.

/// A set of signals, as three bits: kept in every span record, so that each signal's part of
/// a callback is one bit test. A fourth bit says that the metrics signal also keeps the
/// function's `<metric>_in_flight` gauge (`track_concurrency`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SignalSet(u8);

/// The bit of [`SignalSet::tracks_in_flight`], above the signals'.
const IN_FLIGHT: u8 = 8;

/// One of observe's three signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Signal {
    Logs = 1,
    Metrics = 2,
    Traces = 4,
}

impl Signal {
    pub(crate) const ALL: [Signal; 3] = [Signal::Logs, Signal::Metrics, Signal::Traces];
}

impl SignalSet {
    pub(crate) const EMPTY: SignalSet = SignalSet(0);

    #[inline]
    pub(crate) fn contains(self, signal: Signal) -> bool {
        self.0 & signal as u8 != 0
    }

    #[inline]
    pub(crate) fn with(self, signal: Signal) -> SignalSet {
        SignalSet(self.0 | signal as u8)
    }

    /// The set, with the in-flight gauge kept when the metrics signal is in it.
    #[inline]
    pub(crate) fn with_in_flight(self) -> SignalSet {
        if self.contains(Signal::Metrics) {
            SignalSet(self.0 | IN_FLIGHT)
        } else {
            self
        }
    }

    /// The metrics signal keeps the span's `<metric>_in_flight` gauge.
    #[inline]
    pub(crate) fn tracks_in_flight(self) -> bool {
        self.0 & IN_FLIGHT != 0
    }

    #[inline]
    pub(crate) fn is_empty(self) -> bool {
        self.0 & !IN_FLIGHT == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_independent() {
        let set = SignalSet::EMPTY.with(Signal::Logs).with(Signal::Traces);
        assert!(set.contains(Signal::Logs) && set.contains(Signal::Traces));
        assert!(!set.contains(Signal::Metrics));
        assert!(SignalSet::EMPTY.is_empty() && !set.is_empty());
        assert!(
            !set.with_in_flight().tracks_in_flight(),
            "only with metrics"
        );
        let metrics = SignalSet::EMPTY.with(Signal::Metrics).with_in_flight();
        assert!(metrics.tracks_in_flight() && metrics.contains(Signal::Metrics));
    }
}
