//! Where a run's CPU time goes: every thread of this process, by what it does, from the
//! scheduler's own count of its time on a CPU (`/proc/self/task/<tid>/schedstat`, in ns).
//!
//! On a machine the load saturates, a request's wall time is the CPU time every thread spends
//! on it divided by the cores, so this says which part of the overhead is the handler's
//! threads and which is the telemetry's own (writer, export, the receiver standing in for a
//! collector).

use std::collections::HashMap;
use std::fs;

/// A thread's kind, from its name (Linux keeps the first 15 bytes).
fn group(name: &str) -> &'static str {
    const GROUPS: &[(&str, &str)] = &[
        ("http-server", "server"),
        ("http-load", "load"),
        ("otlp-receiver", "receiver"),
        ("observe-log-wri", "writer"),
        ("observe-export", "export"),
        // The SDK's batch processor thread and the blocking reqwest client's runtime.
        ("OpenTelemetry.T", "export"),
        ("reqwest-interna", "export"),
    ];
    GROUPS
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("other", |&(_, group)| group)
}

/// Every group, in the order they are printed.
pub const GROUPS: &[&str] = &["server", "load", "writer", "export", "receiver", "other"];

/// CPU time so far of each live thread: tid → (name, ns).
#[derive(Debug, Default)]
pub struct Snapshot(HashMap<u32, (String, u64)>);

impl Snapshot {
    /// Reads every thread of this process; threads that end while it reads are skipped.
    pub fn take() -> Result<Snapshot, String> {
        let tasks = fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?;
        let mut threads = HashMap::new();
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let path = task.path();
            let (Ok(name), Ok(schedstat)) = (
                fs::read_to_string(path.join("comm")),
                fs::read_to_string(path.join("schedstat")),
            ) else {
                continue;
            };
            let on_cpu = schedstat
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse().ok())
                .ok_or_else(|| format!("unexpected schedstat {schedstat:?}"))?;
            threads.insert(tid, (name.trim_end().to_owned(), on_cpu));
        }
        Ok(Snapshot(threads))
    }

    /// CPU ns per group between `self` and the later `end` (a thread born in between counts
    /// from zero; one that ended in between is lost, which no thread of a run does).
    pub fn until(&self, end: &Snapshot) -> HashMap<&'static str, u64> {
        let mut by_group = HashMap::new();
        for (tid, (name, ns)) in &end.0 {
            let before = self.0.get(tid).map_or(0, |(_, ns)| *ns);
            *by_group.entry(group(name)).or_default() += ns.saturating_sub(before);
        }
        by_group
    }
}

/// `group=µs per request` for each group, comma-separated, for the result line.
pub fn per_request(by_group: &HashMap<&'static str, u64>, requests: u64) -> String {
    GROUPS
        .iter()
        .map(|g| {
            let ns = by_group.get(g).copied().unwrap_or(0);
            format!("{g}={:.2}", ns as f64 / requests.max(1) as f64 / 1e3)
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This thread's CPU time so far, ns.
    fn own_cpu_ns() -> u64 {
        let schedstat = fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        schedstat
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn a_busy_thread_shows_up_in_its_group() {
        let before = Snapshot::take().unwrap();
        let by_group = std::thread::Builder::new()
            .name("http-server-0".into())
            .spawn(move || {
                // 20 ms on a CPU, however long that takes on a busy machine.
                while own_cpu_ns() < 20_000_000 {
                    std::hint::black_box(0u64);
                }
                // Still alive when the second snapshot is taken.
                before.until(&Snapshot::take().unwrap())
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(by_group["server"] >= 20_000_000, "{by_group:?}");
    }

    #[test]
    fn names_map_to_groups() {
        assert_eq!(group("OpenTelemetry.T"), "export");
        assert_eq!(group("observe-export-"), "export");
        assert_eq!(group("otlp-receiver-4"), "receiver");
        assert_eq!(group("observe-bench"), "other");
        let mut by_group = HashMap::new();
        by_group.insert("server", 30_000_000);
        assert_eq!(
            per_request(&by_group, 1_000),
            "server=30.00,load=0.00,writer=0.00,export=0.00,receiver=0.00,other=0.00"
        );
    }
}
