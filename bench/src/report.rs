//! The table `scripts/bench.sh` prints: every configuration's median, its ratio to its
//! baseline from the same run, and each target of the benchmark issue, met or missed; then
//! the HTTP tables (`http::report`).

use std::collections::HashMap;

use crate::{CONFIGS, SPLIT_CONFIGS, http};

/// `(what, numerator, denominator, target)`: met when `numerator / denominator <= target`.
const RATIO_TARGETS: &[(&str, &str, &str, f64)] = &[
    ("metrics / autometrics", "metrics", "autometrics", 0.6),
    ("full / naive", "full", "naive", 0.35),
    ("full+otel / naive+otel", "full+otel", "naive+otel", 0.30),
    ("full+otel / full", "full+otel", "full", 1.5),
    ("full+otel/0 / full", "full+otel/0", "full", 1.05),
    ("event / event-fmt", "event", "event-fmt", 0.5),
    ("full x2 / full", "full x2", "full", 1.3),
    ("full+otel x2 / full+otel", "full+otel x2", "full+otel", 1.3),
    (
        "metrics/log-off / metrics",
        "metrics/log-off",
        "metrics",
        1.05,
    ),
    (
        "metrics / metrics/no-exemplar (exemplars)",
        "metrics",
        "metrics/no-exemplar",
        1.05,
    ),
    (
        "full / full/no-exemplar (exemplars)",
        "full",
        "full/no-exemplar",
        1.05,
    ),
    (
        "metrics+concurrency / metrics",
        "metrics+concurrency",
        "metrics",
        1.1,
    ),
    (
        "metrics+objective / metrics",
        "metrics+objective",
        "metrics",
        1.1,
    ),
];

/// The baseline each configuration is shown against in the table.
fn baseline(id: &str) -> Option<&'static str> {
    Some(match id {
        "metrics" => "autometrics",
        "metrics+concurrency" | "metrics+objective" | "metrics/log-off" => "metrics",
        "metrics/no-exemplar" => "metrics",
        "full" => "naive",
        "full/no-exemplar" | "full+otlp-logs" | "full+otlp-all" | "full+otel/0" => "full",
        "full+otel" => "naive+otel",
        "full+otel x2" => "full+otel",
        "event" => "event-fmt",
        "full x2" => "full",
        "naive+otel" => "naive",
        _ => return None,
    })
}

pub(crate) fn print(file: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let mut median: HashMap<&str, f64> = HashMap::new();
    let mut spread: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut compile: Option<(f64, f64)> = None;
    let mut http_rounds = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        match cols.as_slice() {
            ["http", rest @ ..] => http_rounds.push(http::report::Round::parse(rest)?),
            ["result", id, m, min, max] => {
                let parse = |s: &str| s.parse::<f64>().map_err(|e| format!("{line:?}: {e}"));
                median.insert(id, parse(m)?);
                spread.insert(id, (parse(min)?, parse(max)?));
            }
            ["compile", observe, instrument] => {
                let parse = |s: &str| s.parse::<f64>().map_err(|e| format!("{line:?}: {e}"));
                compile = Some((parse(observe)?, parse(instrument)?));
            }
            _ => {}
        }
    }
    if !median.is_empty() || compile.is_some() {
        print_per_call(&median, &spread, compile);
    }
    http::report::print(&http_rounds);
    Ok(())
}

/// The per-call tables: configurations, the layer-by-layer split, the targets.
fn print_per_call(
    median: &HashMap<&str, f64>,
    spread: &HashMap<&str, (f64, f64)>,
    compile: Option<(f64, f64)>,
) {
    let plain = median.get("plain").copied();
    println!(
        "| config | what | median ns/call | min–max of trials | − plain | ratio to baseline |"
    );
    println!("| --- | --- | ---: | ---: | ---: | --- |");
    for (id, what) in CONFIGS {
        let Some(&m) = median.get(id) else { continue };
        let (min, max) = spread[id];
        let over_plain = plain.map_or(String::new(), |p| format!("{:.1}", m - p));
        let ratio = baseline(id)
            .and_then(|b| median.get(b).map(|bm| format!("{:.3} × {b}", m / bm)))
            .unwrap_or_default();
        println!("| {id} | {what} | {m:.1} | {min:.1}–{max:.1} | {over_plain} | {ratio} |");
    }
    if SPLIT_CONFIGS.iter().any(|(id, _)| median.contains_key(id)) {
        println!();
        println!("| `full`, layer by layer | median ns/call | added by the layer |");
        println!("| --- | ---: | ---: |");
        let mut previous = plain;
        for (id, what) in SPLIT_CONFIGS {
            let Some(&m) = median.get(id) else { continue };
            let added = previous.map_or(String::new(), |p| format!("{:.1}", m - p));
            println!("| {id}: {what} | {m:.1} | {added} |");
            previous = Some(m);
        }
    }
    println!();
    println!("| target | measured | limit | |");
    println!("| --- | ---: | ---: | --- |");
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    if let (Some(off), Some(p)) = (median.get("off"), plain) {
        let d = off - p;
        println!("| off − plain | {d:.2} ns | 3 ns | {} |", verdict(d <= 3.0));
    }
    for (what, num, den, limit) in RATIO_TARGETS {
        if let (Some(n), Some(d)) = (median.get(num), median.get(den)) {
            let r = n / d;
            println!("| {what} | {r:.3} | {limit} | {} |", verdict(r <= *limit));
        }
    }
    if let Some((observe, instrument)) = compile {
        let r = observe / instrument;
        println!(
            "| compile 500 fns: #[observe] {observe:.2} s / #[instrument] {instrument:.2} s | {r:.3} | 1.3 | {} |",
            verdict(r <= 1.3)
        );
    }
}
