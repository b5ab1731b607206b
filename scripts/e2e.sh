#!/usr/bin/env bash
# The songs example against real parts: a Prometheus server scraping it, promtool, and an
# OTLP receiver. Installs Prometheus when missing; every process it starts is stopped by
# the test, on success and on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo build --example songs
cargo test --test songs_e2e -- --ignored --nocapture
