#!/usr/bin/env bash
# observe next to an application's own opentelemetry, opentelemetry_sdk and opentelemetry-otlp
# 0.33: checks ci/compose (outside the workspace, so its features are its own) with the
# crates' default features, then with the async HTTP clients and gRPC instead of the blocking
# reqwest client. observe must build next to any feature set of these crates; a feature of
# opentelemetry-otlp that observe turns on is one that every application gets too.
#
# Not in the set: opentelemetry-otlp's defaults plus `hyper-client`, which 0.33.1 cannot
# compile with or without observe (it names `HyperClient` without importing it when
# `reqwest-blocking-client` is on too), and which is why observe turns on no client feature.
#
#   scripts/compose-check.sh                      both sets
#   scripts/compose-check.sh --features reqwest-client   one set, as given
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}/compose"

# The versions the workspace is tested with, plus whatever the application's own
# dependencies add (resolved afresh, as in a new project).
cp Cargo.lock ci/compose/Cargo.lock
cargo fmt --manifest-path ci/compose/Cargo.toml -- --check

if [ "$#" -gt 0 ]; then
  sets=("$*")
else
  sets=("" "--no-default-features --features grpc-tonic,reqwest-client,hyper-client")
fi
for set in "${sets[@]}"; do
  echo "compose-check: observe + opentelemetry 0.33 crates, ${set:-default features}"
  # shellcheck disable=SC2086 # the set is a list of cargo arguments
  cargo clippy -q --manifest-path ci/compose/Cargo.toml --target-dir "$target" $set -- -D warnings
done
