//! The HTTP tables of `observe-bench report`: each configuration's median over the rounds of
//! one `scripts/bench.sh` run, and the target of issue 9: observe's overhead over `bare`, in
//! wall time per request, at most half of the stack's.

use std::collections::HashMap;

use super::app::CONFIGS;
use super::cpu::GROUPS;
use super::load::LoadStats;

/// The most observe's overhead may be, as a share of the stack's.
const TARGET: f64 = 0.5;

/// The thread groups that are the service's own work: the handler's threads, the log
/// writer and the span export (not the load generator, nor the receiver standing in for a
/// collector on another machine).
const SERVICE_GROUPS: &[&str] = &["server", "writer", "export", "other"];

/// One `http` result line.
#[derive(Clone, Debug)]
pub(crate) struct Round {
    config: String,
    stats: LoadStats,
    exported: u64,
    expected: u64,
    /// CPU µs per request by thread group.
    cpu: HashMap<String, f64>,
}

impl Round {
    /// Parses the columns after `http`.
    pub(crate) fn parse(cols: &[&str]) -> Result<Round, String> {
        let bad = || format!("not an http result line: {cols:?}");
        let [
            config,
            rps,
            p50,
            p99,
            measured,
            total,
            exported,
            expected,
            cpu,
        ] = cols
        else {
            return Err(bad());
        };
        let stats = LoadStats::from_line(&[*rps, p50, p99, measured, total].join("\t"))?;
        let mut by_group = HashMap::new();
        for entry in cpu.split(',') {
            let (group, us) = entry.split_once('=').ok_or_else(bad)?;
            by_group.insert(group.to_owned(), us.parse().map_err(|_| bad())?);
        }
        Ok(Round {
            config: (*config).to_owned(),
            stats,
            exported: exported.parse().map_err(|_| bad())?,
            expected: expected.parse().map_err(|_| bad())?,
            cpu: by_group,
        })
    }

    /// Wall time per request, µs: the machine's time divided among the requests it served.
    fn wall_us(&self) -> f64 {
        1e6 / self.stats.requests_per_sec
    }

    fn service_cpu_us(&self) -> f64 {
        SERVICE_GROUPS
            .iter()
            .map(|g| self.cpu.get(*g).copied().unwrap_or(0.0))
            .sum()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `(observe − bare) / (stack − bare)` of some per-request measure.
fn overhead_ratio(bare: f64, observe: f64, stack: f64) -> f64 {
    (observe - bare) / (stack - bare)
}

/// Prints the tables for `rounds` (in the order they ran); nothing when there are none.
pub(crate) fn print(rounds: &[Round]) {
    if rounds.is_empty() {
        return;
    }
    let by_config =
        |id: &str| -> Vec<&Round> { rounds.iter().filter(|r| r.config == id).collect() };
    let med = |id: &str, f: &dyn Fn(&Round) -> f64| -> Option<f64> {
        let v: Vec<f64> = by_config(id).into_iter().map(f).collect();
        (!v.is_empty()).then(|| median(v))
    };
    let wall = |id: &str| med(id, &|r| r.wall_us());
    let service_cpu = |id: &str| med(id, &|r| r.service_cpu_us());

    println!();
    println!(
        "| HTTP config | what | rounds | requests/s | p50 µs | p99 µs | µs per request (wall) | − bare | service CPU µs per request | spans exported |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (id, what) in CONFIGS {
        let runs = by_config(id);
        if runs.is_empty() {
            continue;
        }
        let rps = med(id, &|r| r.stats.requests_per_sec).unwrap_or_default();
        let p50 = med(id, &|r| r.stats.p50_ns as f64 / 1e3).unwrap_or_default();
        let p99 = med(id, &|r| r.stats.p99_ns as f64 / 1e3).unwrap_or_default();
        let w = wall(id).unwrap_or_default();
        let over = wall("bare").map_or(String::new(), |b| format!("{:.2}", w - b));
        let exported: u64 = runs.iter().map(|r| r.exported).sum();
        let expected: u64 = runs.iter().map(|r| r.expected).sum();
        let spans = if expected == 0 {
            "–".to_owned()
        } else {
            format!("{:.2}%", 100.0 * exported as f64 / expected as f64)
        };
        println!(
            "| {id} | {what} | {} | {rps:.0} | {p50:.0} | {p99:.0} | {w:.2} | {over} | {:.2} | {spans} |",
            runs.len(),
            service_cpu(id).unwrap_or_default()
        );
    }

    println!();
    print!("| CPU µs per request, by thread (median) |");
    for group in GROUPS {
        print!(" {group} |");
    }
    println!();
    println!("| --- |{}", " ---: |".repeat(GROUPS.len()));
    for (id, _) in CONFIGS {
        if by_config(id).is_empty() {
            continue;
        }
        print!("| {id} |");
        for group in GROUPS {
            let us = med(id, &|r| r.cpu.get(*group).copied().unwrap_or(0.0)).unwrap_or_default();
            print!(" {us:.2} |");
        }
        println!();
    }

    let (Some(b), Some(o), Some(s)) = (wall("bare"), wall("observe"), wall("stack")) else {
        return;
    };
    // Each round ran the three one after the other: its own ratio shows the spread.
    let mut per_round = Vec::new();
    for i in 0.. {
        let nth = |id: &str| by_config(id).get(i).map(|r| r.wall_us());
        let (Some(b), Some(o), Some(s)) = (nth("bare"), nth("observe"), nth("stack")) else {
            break;
        };
        per_round.push(format!("{:.3}", overhead_ratio(b, o, s)));
    }
    let ratio = overhead_ratio(b, o, s);
    let verdict = if ratio <= TARGET { "met" } else { "MISSED" };
    println!();
    println!("| target | measured | limit | |");
    println!("| --- | ---: | ---: | --- |");
    println!(
        "| HTTP: (observe − bare) / (stack − bare), wall µs per request (rounds: {}) | {ratio:.3} | {TARGET} | {verdict} |",
        per_round.join(", ")
    );
    if let (Some(b), Some(o), Some(s)) = (
        service_cpu("bare"),
        service_cpu("observe"),
        service_cpu("stack"),
    ) {
        println!(
            "| HTTP, the same in service CPU µs per request (diagnostic) | {:.3} | | |",
            overhead_ratio(b, o, s)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(config: &str, rps: f64) -> Round {
        let cols = format!(
            "{config}\t{rps}\t300000\t900000\t1000\t1200\t2400\t2400\tserver=10.00,load=5.00,writer=1.00,export=2.00,receiver=3.00,other=0.50"
        );
        Round::parse(&cols.split('\t').collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_result_line_parses() {
        let round = line("observe", 20_000.0);
        assert_eq!(round.wall_us(), 50.0);
        assert_eq!(round.service_cpu_us(), 13.5);
        assert_eq!(round.exported, 2400);
        assert!(Round::parse(&["observe", "1"]).is_err());
    }

    #[test]
    fn the_ratio_is_of_overheads_over_bare() {
        // 25 µs bare, 35 µs observe, 50 µs stack: 10 / 25.
        assert!((overhead_ratio(25.0, 35.0, 50.0) - 0.4).abs() < 1e-12);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
