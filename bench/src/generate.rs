//! The compile-time benchmark's crates: the same `n` functions under `#[observe]` or under
//! `#[tracing::instrument]`, for `scripts/bench.sh` to clean-build and time.

use std::fmt::Write as _;
use std::path::Path;

pub(crate) fn crate_of(dir: &str, kind: &str, count: &str) -> Result<(), String> {
    let count: usize = count.parse().map_err(|e| format!("count {count:?}: {e}"))?;
    let (dependency, attribute) = match kind {
        "observe" => (
            // `#[observe]` needs no `tracing` dependency; it is listed anyway so that both
            // crates have the same dependency set and only the attribute differs.
            format!(
                "observe = {{ path = {:?} }}\ntracing = \"0.1\"",
                concat!(env!("CARGO_MANIFEST_DIR"), "/..")
            ),
            "#[observe::observe(skip(flag), fields(table = \"events\"), metric = \"gen_call\", labels(slot = n))]",
        ),
        "instrument" => (
            "tracing = \"0.1\"".to_owned(),
            "#[tracing::instrument(skip(flag), fields(table = \"events\", slot = n))]",
        ),
        other => return Err(format!("kind {other:?}: observe or instrument")),
    };
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = format!(
        "[package]\nname = \"gen-{kind}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{dependency}\n\n[workspace]\n"
    );
    let mut lib = String::from(
        "#![allow(dead_code, clippy::all)]\n\n#[derive(Debug)]\npub struct Error;\n\n",
    );
    for i in 0..count {
        // Alternate sync and fallible shapes, as a service's functions are.
        if i % 2 == 0 {
            writeln!(
                lib,
                "{attribute}\npub fn f{i}(n: u64, flag: bool) -> u64 {{\n    if flag {{ n + {i} }} else {{ n * 2 }}\n}}\n"
            )
        } else {
            writeln!(
                lib,
                "{attribute}\npub fn f{i}(n: u64, flag: bool) -> Result<u64, Error> {{\n    if flag {{ Ok(n + {i}) }} else {{ Err(Error) }}\n}}\n"
            )
        }
        .map_err(|e| e.to_string())?;
    }
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write("Cargo.toml", &manifest)?;
    write("src/lib.rs", &lib)?;
    Ok(())
}
