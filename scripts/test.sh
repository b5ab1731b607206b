#!/usr/bin/env bash
# Every check observe has, in the order CI runs them: formatting, lints, the API
# documentation, the build next to an application's own OpenTelemetry crates, then all tests
# (unit, integration against real peers, trybuild UI cases, doctests), the Prometheus SLO
# rules and their promtool unit tests, the songs example end to end, the benchmark build,
# the packages of the published crates and the long reliability scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The runtime without OpenTelemetry export (the facade's `otlp` feature off).
cargo clippy -p observe-runtime --no-default-features --all-targets -- -D warnings
# The API documentation as docs.rs builds it: a broken or private link is an error.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
# observe next to an application's own opentelemetry crates 0.33 with their default features,
# and with other common feature sets of opentelemetry-otlp (ci/compose, outside the workspace).
bash scripts/compose-check.sh
cargo test --workspace
# The SLO rules (prometheus/): `promtool check rules`, then their `promtool test rules` cases.
bash scripts/check-rules.sh
# The songs example against a real Prometheus server, promtool and an OTLP receiver.
bash scripts/e2e.sh
# The benchmark harness (scripts/bench.sh) in the profile it runs in, so it cannot rot.
cargo build --release -p observe-bench
# The four published crates package and build from their packages alone (cargo resolves
# their dependencies on each other from the packages it has just made). `--allow-dirty`: a
# local run checks the working tree as it is; CI checks a clean checkout.
cargo package --allow-dirty -p observe-fields -p observe-macros -p observe-runtime -p observe
# The long reliability scenarios (8 threads x 100,000 calls, a slow lossy writer, 1,000,000
# calls under a runaway label), one at a time so that their latency bounds are not measured
# against each other; ~1.5 min in debug on 2 cores. See RELIABILITY.md.
cargo test --test reliability_load -- --ignored --test-threads=1 --skip child_
