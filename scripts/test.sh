#!/usr/bin/env bash
# Every check observe has, in the order CI runs them: formatting, lints, the build next to
# an application's own OpenTelemetry crates, then all tests (unit, integration against real
# peers, trybuild UI cases, doctests), the songs example end to end, the benchmark build and
# the long reliability scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# observe next to an application's own opentelemetry crates 0.33 with their default features,
# and with other common feature sets of opentelemetry-otlp (ci/compose, outside the workspace).
bash scripts/compose-check.sh
cargo test --workspace
# The songs example against a real Prometheus server, promtool and an OTLP receiver.
bash scripts/e2e.sh
# The benchmark harness (scripts/bench.sh) in the profile it runs in, so it cannot rot.
cargo build --release -p observe-bench
# The long reliability scenarios (8 threads x 100,000 calls, a slow lossy writer, 1,000,000
# calls under a runaway label), one at a time so that their latency bounds are not measured
# against each other; ~1.5 min in debug on 2 cores. See RELIABILITY.md.
cargo test --test reliability_load -- --ignored --test-threads=1 --skip child_
