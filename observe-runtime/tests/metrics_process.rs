//! The process metrics: `process_cpu_seconds_total` keeps the sub-second precision the
//! kernel reports, and the gauges of `metrics-process` are all there.
//!
//! The CPU figure is checked against `/proc/self/stat`, read by hand around each render, so
//! nothing here depends on how fast the machine is: the test burns CPU until the kernel's
//! count is a fractional number of seconds, then requires the rendered value to lie between
//! the counts read just before and just after the render.
#![cfg(target_os = "linux")]

mod metrics_support;

use std::hint::black_box;
use std::process::Command;

use metrics_support::{metrics, named, samples};
use observe_runtime::metrics::{Metrics, MetricsConfig};

/// The clock ticks per second of `/proc/self/stat`'s CPU times (`USER_HZ`).
fn ticks_per_second() -> u64 {
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf (libc-bin) runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK is a number")
}

/// This process's user + system CPU time, in clock ticks (fields 14 and 15 of
/// `/proc/self/stat`, counted after the parenthesised command name, which may hold spaces).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // `after_name` starts at field 3 (state).
    let utime: u64 = fields[14 - 3].parse().unwrap();
    let stime: u64 = fields[15 - 3].parse().unwrap();
    utime + stime
}

/// Spins until the kernel has counted at least one more tick of CPU time.
fn burn_a_tick() {
    let start = cpu_ticks();
    let mut x = 0_u64;
    while cpu_ticks() == start {
        for i in 0..10_000_u64 {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
}

fn rendered_cpu_seconds(metrics: &Metrics) -> f64 {
    let text = metrics.render();
    assert!(
        text.contains(
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
             # TYPE process_cpu_seconds_total counter\n"
        ),
        "{text}"
    );
    let all = samples(&text);
    let cpu = named(&all, "process_cpu_seconds_total");
    assert_eq!(cpu.len(), 1, "{text}");
    assert!(cpu[0].labels.is_empty(), "{text}");
    cpu[0].value
}

#[test]
fn cpu_seconds_have_the_kernels_sub_second_precision() {
    let hz = ticks_per_second();
    let seconds = |ticks: u64| ticks as f64 / hz as f64;
    let metrics = metrics(MetricsConfig::default());
    metrics.add_process_collector();

    let mut last = 0.0;
    let mut fractional = None;
    // A handful of ticks is enough: the count is a whole number of seconds once in `hz` ticks.
    for _ in 0..50 {
        burn_a_tick();
        let before = cpu_ticks();
        let value = rendered_cpu_seconds(&metrics);
        let after = cpu_ticks();
        assert!(
            seconds(before) <= value && value <= seconds(after),
            "process_cpu_seconds_total {value} outside /proc/self/stat's {} ..= {}",
            seconds(before),
            seconds(after)
        );
        assert!(
            value > last,
            "{value} did not move on from {last} after a tick of CPU"
        );
        last = value;
        if before == after && !before.is_multiple_of(hz) {
            fractional = Some(value);
            break;
        }
    }
    let value = fractional.expect("no render with a fractional CPU count in 50 ticks");
    assert_ne!(value.fract(), 0.0, "{value}");
}

#[test]
fn the_other_process_metrics_are_gauges() {
    let metrics = metrics(MetricsConfig::default());
    metrics.add_process_collector();
    metrics.add_process_collector();
    let text = metrics.render();
    for gauge in [
        "process_open_fds",
        "process_max_fds",
        "process_virtual_memory_bytes",
        "process_virtual_memory_max_bytes",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_threads",
    ] {
        assert!(
            text.contains(&format!("# TYPE {gauge} gauge\n")),
            "{gauge}:\n{text}"
        );
        let all = samples(&text);
        assert_eq!(named(&all, gauge).len(), 1, "{gauge}:\n{text}");
    }
    assert!(named(&samples(&text), "process_resident_memory_bytes")[0].value > 0.0);
    assert_eq!(
        text.matches("# TYPE process_cpu_seconds_total counter")
            .count(),
        1,
        "added twice, rendered once:\n{text}"
    );
}
