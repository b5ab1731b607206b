//! Helpers shared by the `reliability_*` test binaries: child processes (`init` is once per
//! process), Prometheus exposition look-ups, RSS, and this process's listening sockets.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The variable that tells a child test which scenario it is.
pub(crate) const CHILD_ENV: &str = "OBSERVE_RELIABILITY_CHILD";

/// True when this process was started by [`run_child`] for the child test `name`. Child tests
/// return at once otherwise, so that `cargo test -- --ignored` runs them harmlessly.
pub(crate) fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == name)
}

/// Runs the `#[ignore]`d test `name` of this test binary in a child process with `envs`
/// (and nothing of the parent's `RUST_LOG`/`OTEL_*`/`OBSERVE_*`), and returns its output with
/// how long it took. Panics when the child does not finish within `limit`.
pub(crate) fn run_child(
    name: &str,
    envs: &[(&str, String)],
    limit: Duration,
) -> (Output, Duration) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key == "RUST_LOG" || key.starts_with("OTEL_") || key.starts_with("OBSERVE_") {
            command.env_remove(&key);
        }
    }
    command.env(CHILD_ENV, name);
    for (k, v) in envs {
        command.env(k, v);
    }
    let started = Instant::now();
    let child = command.spawn().expect("spawn child");
    let pid = child.id();
    // A watchdog: a hung child must fail the test, not hang CI.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return true;
        }
        false
    });
    let output = child.wait_with_output().expect("child output");
    let _ = done_tx.send(());
    let killed = watchdog.join().unwrap();
    let elapsed = started.elapsed();
    assert!(
        !killed,
        "child {name} did not finish within {limit:?}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output, elapsed)
}

/// Asserts the child succeeded, showing its stderr (and stdout tail) otherwise.
pub(crate) fn assert_success(name: &str, output: &Output) {
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let tail: Vec<&str> = stdout.lines().rev().take(40).collect();
        panic!(
            "child {name} failed: {}\nstderr:\n{}\nstdout (last lines, reversed):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            tail.join("\n")
        );
    }
}

/// Lines the child reported as `REPORT key=value` on stdout (figures for RELIABILITY.md).
pub(crate) fn reports(output: &Output) -> BTreeMap<String, String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        // libtest may print `test name ... ` on the same line first.
        .filter_map(|l| Some(&l[l.find("REPORT ")? + "REPORT ".len()..]))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Prints a figure in a form [`reports`] reads back (and a human can grep).
pub(crate) fn report(key: &str, value: impl std::fmt::Display) {
    println!("REPORT {key}={value}");
}

/// The value of the sample whose name-and-labels part is exactly `series`
/// (e.g. `x_total{a="1",result="ok"}`).
pub(crate) fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

/// Every sample of `metric` (exact name, any labels) as `(labels, value)`.
pub(crate) fn samples(exposition: &str, metric: &str) -> Vec<(String, f64)> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (name, labels) = match series.find('{') {
                Some(i) => (&series[..i], &series[i..]),
                None => (series, ""),
            };
            (name == metric).then(|| (labels.to_owned(), value.parse().unwrap()))
        })
        .collect()
}

/// Resident set size of this process, in bytes (`/proc/self/statm`).
pub(crate) fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let resident: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY-free: the page size on Linux x86_64/aarch64 test machines is read from the
    // kernel's view of this process.
    resident * page_size()
}

fn page_size() -> u64 {
    // /proc/self/smaps reports "KernelPageSize: 4 kB" per mapping.
    std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("KernelPageSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(4096, |kb| kb * 1024)
}

/// The TCP sockets in LISTEN state that this process holds, as `ip:port` strings
/// (from `/proc/net/tcp{,6}`, matched against the socket inodes in `/proc/self/fd`).
pub(crate) fn listening_sockets() -> Vec<String> {
    let inodes: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|t| {
            let t = t.to_string_lossy().into_owned();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if cols.len() > 9 && cols[3] == "0A" && inodes.iter().any(|i| i == cols[9]) {
                out.push(decode_proc_addr(cols[1]));
            }
        }
    }
    out
}

fn decode_proc_addr(hex: &str) -> String {
    let (ip, port) = hex.split_once(':').unwrap();
    let port = u16::from_str_radix(port, 16).unwrap();
    let bytes: Vec<u8> = (0..ip.len() / 2)
        .map(|i| u8::from_str_radix(&ip[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    // /proc prints each 32-bit word in host (little-endian) order.
    let words: Vec<u8> = bytes
        .chunks(4)
        .flat_map(|w| w.iter().rev().copied().collect::<Vec<_>>())
        .collect();
    match words.len() {
        4 => format!("{}.{}.{}.{}:{port}", words[0], words[1], words[2], words[3]),
        _ => {
            let segs: Vec<String> = words
                .chunks(2)
                .map(|c| format!("{:x}", u16::from_be_bytes([c[0], c[1]])))
                .collect();
            format!("[{}]:{port}", segs.join(":"))
        }
    }
}

/// A panic hook that says nothing, for children that panic on purpose many times.
/// Only panics whose message contains one of `expected` are silenced; any other (a failed
/// assertion) is reported as usual.
pub(crate) fn silence_panics(expected: &'static [&'static str]) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !expected.iter().any(|e| message.contains(e)) {
            default(info);
        }
    }));
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub(crate) fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}
