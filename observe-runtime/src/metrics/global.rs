//! The process-wide `metrics` recorder that `init` installs: a forwarder to the registry of
//! the `init` that succeeded.
//!
//! Installing a global recorder cannot be undone, and neither can installing the global
//! subscriber; `init` must install both, and must leave a retry possible when the second
//! fails. So the recorder it installs first is this forwarder, which does nothing until
//! `init` has succeeded and then points at its registry for good; a failed `init` leaves
//! only an inert forwarder behind, which the next attempt reuses.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use ::metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::PrometheusRecorder;

use super::Metrics;

static TARGET: OnceLock<Metrics> = OnceLock::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

struct Forward;

impl Forward {
    fn target(&self) -> Option<&'static PrometheusRecorder> {
        TARGET.get().map(Metrics::recorder)
    }
}

impl Recorder for Forward {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if let Some(target) = self.target() {
            target.describe_counter(key, unit, description);
        }
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if let Some(target) = self.target() {
            target.describe_gauge(key, unit, description);
        }
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if let Some(target) = self.target() {
            target.describe_histogram(key, unit, description);
        }
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.target().map_or_else(Counter::noop, |target| {
            target.register_counter(key, metadata)
        })
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.target()
            .map_or_else(Gauge::noop, |target| target.register_gauge(key, metadata))
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.target().map_or_else(Histogram::noop, |target| {
            target.register_histogram(key, metadata)
        })
    }
}

/// Installs the forwarder, unless an earlier attempt did; `false` when another recorder is
/// the global one.
pub(crate) fn install_forwarder() -> bool {
    if INSTALLED.load(Ordering::Acquire) {
        return true;
    }
    let installed = ::metrics::set_global_recorder(Forward).is_ok();
    if installed {
        INSTALLED.store(true, Ordering::Release);
    }
    installed
}

/// Points the forwarder at `metrics`, once.
pub(crate) fn forward_to(metrics: &Metrics) {
    let _ = TARGET.set(metrics.clone());
}
