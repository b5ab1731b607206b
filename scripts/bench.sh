#!/usr/bin/env bash
# Per-call overhead of observe against its baselines, the per-request overhead of observe's
# HTTP layer against the stack users assemble (requests/s and latency of an axum service), and
# the compile time of #[observe] against #[tracing::instrument]. Every configuration runs in its own process (subscriber and
# metrics recorder are process-global, as in production); the table's ratios are from this
# one run. See BENCHMARKS.md for what each configuration is.
#
#   scripts/bench.sh              everything (~3 min of runs + two 500-function crate builds)
#   BENCH_CONFIGS="full naive" scripts/bench.sh     only these configurations
#   BENCH_CALLS=0 scripts/bench.sh                  skip the per-call configurations
#   BENCH_COMPILE=0 scripts/bench.sh                skip the compile-time part
#   BENCH_HTTP=0 scripts/bench.sh                   skip the HTTP part (~2 min: 3 rounds of
#                                                   bare, observe, stack; 2 s warm-up + 10 s each)
#   BENCH_HTTP_ROUNDS=5 BENCH_HTTP_ARGS="--load-process" scripts/bench.sh    more rounds; options
#                                                   for `observe-bench http` (see bench/src/http)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --release -q -p observe-bench
bin="$CARGO_TARGET_DIR/release/observe-bench"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
if [ "${BENCH_CALLS:-1}" = 0 ]; then
  configs=()
elif [ -n "${BENCH_CONFIGS:-}" ]; then
  read -r -a configs <<<"$BENCH_CONFIGS"
else
  mapfile -t configs < <("$bin" list)
fi
for config in "${configs[@]}"; do
  line="$("$bin" run "$config" | grep '^result')"
  echo "$line" | awk -F'\t' '{ printf "  %-16s %10s ns/call\n", $2, $3 }'
  echo "$line" >>"$results"
done

if [ "${BENCH_HTTP:-1}" != 0 ]; then
  # An axum service at 16 connections over loopback, each configuration in its own process;
  # the rounds interleave the configurations so that a slow spell of the machine hits all three.
  read -r -a http_args <<<"${BENCH_HTTP_ARGS:-}"
  for round in $(seq "${BENCH_HTTP_ROUNDS:-3}"); do
    for config in bare observe stack; do
      line="$("$bin" http "$config" "${http_args[@]}" | grep $'^http\t')"
      # `elsewhere`: other processes' CPU time per request; more than a few µs means a shared
      # machine had a hand in this round.
      echo "$line" | awk -F'\t' -v r="$round" '{
        match($10, /elsewhere=[0-9.]+/); elsewhere = substr($10, RSTART + 10, RLENGTH - 10)
        printf "  http %-8s round %s %9.0f req/s  p50 %6.0f µs  p99 %6.0f µs  elsewhere %5.1f µs/req\n",
          $2, r, $3, $4 / 1e3, $5 / 1e3, elsewhere }'
      echo "$line" >>"$results"
    done
  done
fi

if [ "${BENCH_COMPILE:-1}" != 0 ]; then
  # Two generated crates of 500 functions each, same bodies, one under #[observe] and one
  # under #[tracing::instrument]. Dependencies are built once (untimed); then each crate
  # alone is cleaned and rebuilt (debug, as during development), three times, median kept.
  gen="$CARGO_TARGET_DIR/bench-compile"
  n="${BENCH_COMPILE_FNS:-500}"
  for kind in observe instrument; do
    "$bin" gen "$gen/$kind" "$kind" "$n"
    cp Cargo.lock "$gen/$kind/Cargo.lock"
    cargo build -q --manifest-path "$gen/$kind/Cargo.toml"
  done
  declare -A secs
  for kind in observe instrument; do
    times=()
    for _ in 1 2 3; do
      cargo clean -q --manifest-path "$gen/$kind/Cargo.toml" -p "gen-$kind"
      start=$(date +%s.%N)
      cargo build -q --manifest-path "$gen/$kind/Cargo.toml"
      end=$(date +%s.%N)
      times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')")
    done
    secs[$kind]="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)"
    echo "  compile $n fns, $kind: ${times[*]} s (median ${secs[$kind]})"
  done
  printf 'compile\t%s\t%s\n' "${secs[observe]}" "${secs[instrument]}" >>"$results"
fi

echo
"$bin" report "$results"
