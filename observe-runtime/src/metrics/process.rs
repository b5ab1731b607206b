//! The standard process metrics, as the Prometheus client libraries export them.
//!
//! `metrics-process` reads them on every platform, but its `Collector` writes
//! `process_cpu_seconds_total` through `metrics::counter!`, whose value is a `u64`: the
//! counter moves in whole seconds, and `rate()` of it says 0 or 1 for a service at 10 % CPU.
//! The exporter has no float counter, so this module takes the crate's raw snapshot
//! ([`metrics_process::collector::collect`]), records the gauges through the `metrics` macros
//! as the crate would, and renders the CPU counter itself, with the precision the platform
//! gives (1/100 s on Linux, as the Go and Python clients read it from `/proc/self/stat`).

use std::fmt::Write as _;
use std::sync::Once;

use metrics::{Unit, describe_gauge, gauge};

const CPU_SECONDS: &str = "process_cpu_seconds_total";
const CPU_SECONDS_HELP: &str = "Total user and system CPU time spent in seconds.";

/// Reads the process metrics at each render of the [`Metrics`](super::Metrics) that owns it.
#[derive(Debug)]
pub(super) struct ProcessMetrics {
    described: Once,
}

impl ProcessMetrics {
    pub(super) fn new() -> Self {
        ProcessMetrics {
            described: Once::new(),
        }
    }

    /// Takes a snapshot of the process, records its gauges with the thread's `metrics`
    /// recorder, and returns its CPU time for [`render_cpu_seconds`].
    pub(super) fn collect(&self) -> Option<f64> {
        self.described.call_once(describe_gauges);
        let snapshot = metrics_process::collector::collect();
        let gauges = [
            ("process_open_fds", snapshot.open_fds),
            ("process_max_fds", snapshot.max_fds),
            (
                "process_virtual_memory_bytes",
                snapshot.virtual_memory_bytes,
            ),
            (
                "process_virtual_memory_max_bytes",
                snapshot.virtual_memory_max_bytes,
            ),
            (
                "process_resident_memory_bytes",
                snapshot.resident_memory_bytes,
            ),
            ("process_start_time_seconds", snapshot.start_time_seconds),
            ("process_threads", snapshot.threads),
        ];
        for (name, value) in gauges {
            if let Some(value) = value {
                gauge!(name).set(value as f64);
            }
        }
        snapshot
            .cpu_seconds_total
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
    }
}

/// Appends `process_cpu_seconds_total` as a counter family in the text format 0.0.4, laid
/// out as the exporter lays out its own families (a blank line after each).
pub(super) fn render_cpu_seconds(out: &mut String, seconds: f64) {
    // `Display` of an `f64` is the shortest text that parses back to the same value, and
    // never uses an exponent, so Prometheus reads exactly what was measured.
    let _ = write!(
        out,
        "# HELP {CPU_SECONDS} {CPU_SECONDS_HELP}\n# TYPE {CPU_SECONDS} counter\n{CPU_SECONDS} {seconds}\n\n"
    );
}

/// The help texts of `metrics-process`, so that the exposition reads as it did.
fn describe_gauges() {
    describe_gauge!(
        "process_open_fds",
        Unit::Count,
        "Number of open file descriptors."
    );
    describe_gauge!(
        "process_max_fds",
        Unit::Count,
        "Maximum number of open file descriptors."
    );
    describe_gauge!(
        "process_virtual_memory_bytes",
        Unit::Bytes,
        "Virtual memory size in bytes."
    );
    describe_gauge!(
        "process_virtual_memory_max_bytes",
        Unit::Bytes,
        "Maximum amount of virtual memory available in bytes."
    );
    describe_gauge!(
        "process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory size in bytes."
    );
    describe_gauge!(
        "process_start_time_seconds",
        Unit::Seconds,
        "Start time of the process since unix epoch in seconds."
    );
    describe_gauge!(
        "process_threads",
        Unit::Count,
        "Number of OS threads in the process."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_render_as_a_float_counter() {
        let mut out = String::new();
        render_cpu_seconds(&mut out, 0.37);
        assert_eq!(
            out,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
             # TYPE process_cpu_seconds_total counter\n\
             process_cpu_seconds_total 0.37\n\n"
        );
        let mut whole = String::new();
        render_cpu_seconds(&mut whole, 12.0);
        assert!(
            whole.ends_with("process_cpu_seconds_total 12\n\n"),
            "{whole}"
        );
    }
}
