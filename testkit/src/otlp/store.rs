//! What the receiver keeps: every export request with its headers (or, in discard mode,
//! only counts), and a condition variable that wakes the `wait_for_*` helpers.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use super::logs::log_record_count;
use super::metrics::data_point_count;
use super::spans::span_count;

/// One export request as the receiver got it.
///
/// ```
/// use observe_testkit::otlp::{Receiver, Received};
/// let receiver = Receiver::start_http();
/// let requests: Vec<Received<_>> = receiver.metrics_requests();
/// assert!(requests.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Received<R> {
    /// Request headers (gRPC metadata for gRPC), names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The decoded request.
    pub request: R,
}

/// A trace export request as the receiver got it.
pub type ReceivedRequest = Received<ExportTraceServiceRequest>;
/// A metrics export request as the receiver got it.
pub type ReceivedMetricsRequest = Received<ExportMetricsServiceRequest>;
/// A logs export request as the receiver got it.
pub type ReceivedLogsRequest = Received<ExportLogsServiceRequest>;

/// What a receiver has seen so far. Counted in every mode, discard included.
///
/// ```
/// let receiver = observe_testkit::otlp::Receiver::start_grpc();
/// assert_eq!(receiver.counts(), observe_testkit::otlp::Counts::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Trace export requests accepted.
    pub trace_requests: usize,
    /// Spans in them.
    pub spans: usize,
    /// Metrics export requests accepted.
    pub metrics_requests: usize,
    /// Data points in them.
    pub data_points: usize,
    /// Logs export requests accepted.
    pub logs_requests: usize,
    /// Log records in them.
    pub log_records: usize,
    /// HTTP requests refused (wrong content type or encoding, undecodable body).
    pub rejected_requests: usize,
    /// TLS handshakes that failed (untrusted peer, missing client certificate, timeout).
    pub tls_handshake_failures: usize,
}

/// Which of the three OTLP signals a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignalKind {
    Traces,
    Metrics,
    Logs,
}

/// An OTLP export request type: how to count it and where the store keeps it.
pub(crate) trait Signal: prost::Message + Default + Send + 'static {
    const KIND: SignalKind;
    /// The (empty) success response.
    type Response: prost::Message + Default;
    /// Spans, data points or log records in the request.
    fn items(&self) -> usize;
    fn kept(state: &mut State) -> &mut Vec<Received<Self>>;
}

impl Signal for ExportTraceServiceRequest {
    const KIND: SignalKind = SignalKind::Traces;
    type Response = ExportTraceServiceResponse;
    fn items(&self) -> usize {
        span_count(self)
    }
    fn kept(state: &mut State) -> &mut Vec<Received<Self>> {
        &mut state.traces
    }
}

impl Signal for ExportMetricsServiceRequest {
    const KIND: SignalKind = SignalKind::Metrics;
    type Response = ExportMetricsServiceResponse;
    fn items(&self) -> usize {
        data_point_count(self)
    }
    fn kept(state: &mut State) -> &mut Vec<Received<Self>> {
        &mut state.metrics
    }
}

impl Signal for ExportLogsServiceRequest {
    const KIND: SignalKind = SignalKind::Logs;
    type Response = ExportLogsServiceResponse;
    fn items(&self) -> usize {
        log_record_count(self)
    }
    fn kept(state: &mut State) -> &mut Vec<Received<Self>> {
        &mut state.logs
    }
}

/// TLS error messages kept: enough to read why handshakes fail, bounded so that a flood of
/// bad clients (or discard mode in a benchmark) does not grow memory.
const KEPT_TLS_ERRORS: usize = 64;

#[derive(Default)]
pub(crate) struct State {
    pub(crate) traces: Vec<ReceivedRequest>,
    pub(crate) metrics: Vec<ReceivedMetricsRequest>,
    pub(crate) logs: Vec<ReceivedLogsRequest>,
    /// Every kept request in arrival order, as (signal, index in its list).
    pub(crate) arrivals: Vec<(SignalKind, usize)>,
    pub(crate) counts: Counts,
    pub(crate) tls_errors: Vec<String>,
    /// Bumped on every change, so a waiter can tell a change from a spurious wake-up.
    pub(crate) generation: u64,
}

pub(crate) struct Store {
    /// `false` in discard mode: requests are decoded, counted and dropped.
    keep: bool,
    state: Mutex<State>,
    changed: Condvar,
}

impl Store {
    pub(crate) fn new(keep: bool) -> Store {
        Store {
            keep,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    /// `false` in discard mode.
    pub(crate) fn keeps(&self) -> bool {
        self.keep
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take every later assertion down with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn push<R: Signal>(&self, headers: Vec<(String, String)>, request: R) {
        let items = request.items();
        let mut state = self.lock();
        let counts = &mut state.counts;
        match R::KIND {
            SignalKind::Traces => {
                counts.trace_requests += 1;
                counts.spans += items;
            }
            SignalKind::Metrics => {
                counts.metrics_requests += 1;
                counts.data_points += items;
            }
            SignalKind::Logs => {
                counts.logs_requests += 1;
                counts.log_records += items;
            }
        }
        if self.keep {
            let kept = R::kept(&mut state);
            let index = kept.len();
            kept.push(Received { headers, request });
            state.arrivals.push((R::KIND, index));
        }
        self.changed_locked(state);
    }

    pub(crate) fn rejected(&self) {
        let mut state = self.lock();
        state.counts.rejected_requests += 1;
        self.changed_locked(state);
    }

    pub(crate) fn tls_failure(&self, error: String) {
        let mut state = self.lock();
        state.counts.tls_handshake_failures += 1;
        if state.tls_errors.len() < KEPT_TLS_ERRORS {
            state.tls_errors.push(error);
        }
        self.changed_locked(state);
    }

    fn changed_locked(&self, mut state: MutexGuard<'_, State>) {
        state.generation += 1;
        drop(state);
        self.changed.notify_all();
    }

    /// Waits until `done(state)` holds or `deadline` passes; returns the state either way.
    pub(crate) fn wait(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&State) -> bool,
    ) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            if done(&state) || now >= deadline {
                return state;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}
