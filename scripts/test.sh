#!/usr/bin/env bash
# Every check observe has, in the order CI runs them: formatting, lints, then all tests
# (unit, integration against real peers, trybuild UI cases, doctests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# The benchmark harness (scripts/bench.sh) in the profile it runs in, so it cannot rot.
cargo build --release -p observe-bench
