//! Where a run's CPU time goes: every thread of this process, by what it does, from the
//! scheduler's own count of its time on a CPU (`/proc/self/task/<tid>/schedstat`, in ns),
//! and the rest of the machine (`/proc/stat`): other processes' time, idle time, and time
//! the hypervisor took.
//!
//! A request's wall time, times the cores, is the sum of all of these per request; so this
//! says which part of the overhead is the handler's threads, which is the telemetry's own
//! (writer, export, the receiver standing in for a collector), and whether another
//! process on a shared machine had a hand in the figures.

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

/// Every group, in the order they are printed: this process's threads, then the
/// machine's other busy time (other processes, the load process too with
/// `--load-process`), its idle time and the time the hypervisor stole.
pub(super) const GROUPS: &[&str] = &[
    "server",
    "load",
    "writer",
    "export",
    "receiver",
    "other",
    "elsewhere",
    "idle",
    "steal",
];

/// The kernel's unit in `/proc/stat`, `USER_HZ`: 100 per second on every Linux ABI.
const NS_PER_TICK: u64 = 10_000_000;

/// CPU time so far of each live thread, and of the whole machine.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    /// tid → (name, ns).
    threads: HashMap<u32, (String, u64)>,
    machine: Machine,
}

/// The machine's time so far, all CPUs, ns.
#[derive(Clone, Copy, Debug, Default)]
struct Machine {
    busy: u64,
    idle: u64,
    steal: u64,
}

impl Machine {
    fn read() -> Result<Machine, String> {
        Machine::parse(&fs::read_to_string("/proc/stat").map_err(|e| format!("/proc/stat: {e}"))?)
    }

    /// The `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq steal ...
    fn parse(stat: &str) -> Result<Machine, String> {
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("cpu "))
            .map(|rest| {
                rest.split_whitespace()
                    .filter_map(|t| t.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let [user, nice, system, idle, iowait, irq, softirq, steal, ..] = ticks[..] else {
            return Err(format!("unexpected /proc/stat: {:?}", stat.lines().next()));
        };
        Ok(Machine {
            busy: (user + nice + system + irq + softirq) * NS_PER_TICK,
            idle: (idle + iowait) * NS_PER_TICK,
            steal: steal * NS_PER_TICK,
        })
    }
}

impl Snapshot {
    /// Reads every thread of this process; threads that end while it reads are skipped.
    pub(super) fn take() -> Result<Snapshot, String> {
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
        Ok(Snapshot {
            threads,
            machine: Machine::read()?,
        })
    }

    /// CPU ns per group between `self` and the later `end` (a thread born in between counts
    /// from zero; one that ended in between is lost, which no thread of a run does).
    pub(super) fn until(&self, end: &Snapshot) -> HashMap<&'static str, u64> {
        let mut by_group = HashMap::new();
        let mut this_process = 0;
        for (tid, (name, ns)) in &end.threads {
            let before = self.threads.get(tid).map_or(0, |(_, ns)| *ns);
            let ns = ns.saturating_sub(before);
            this_process += ns;
            *by_group.entry(group(name)).or_default() += ns;
        }
        let (a, b) = (self.machine, end.machine);
        // `/proc/stat` counts in 10 ms ticks, the threads in ns: the difference is good to
        // a tick per CPU.
        let busy = b.busy.saturating_sub(a.busy);
        by_group.insert("elsewhere", busy.saturating_sub(this_process));
        by_group.insert("idle", b.idle.saturating_sub(a.idle));
        by_group.insert("steal", b.steal.saturating_sub(a.steal));
        by_group
    }
}

/// `group=µs per request` for each group, comma-separated, for the result line.
pub(super) fn per_request(by_group: &HashMap<&'static str, u64>, requests: u64) -> String {
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
        for machine in ["elsewhere", "idle", "steal"] {
            assert!(by_group.contains_key(machine), "{by_group:?}");
        }
    }

    #[test]
    fn the_machine_line_is_read_in_ns() {
        let stat = "cpu  100 2 30 400 5 0 6 7 0 0\ncpu0 50 1 15 200 2 0 3 4 0 0\n";
        let m = Machine::parse(stat).unwrap();
        assert_eq!(
            (m.busy, m.idle, m.steal),
            (1_380_000_000, 4_050_000_000, 70_000_000)
        );
        assert!(Machine::parse("intr 1 2 3\n").is_err());
        assert!(Machine::read().is_ok());
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
            "server=30.00,load=0.00,writer=0.00,export=0.00,receiver=0.00,other=0.00,\
             elsewhere=0.00,idle=0.00,steal=0.00"
        );
    }
}
