#!/usr/bin/env bash
# Instructions per call of benchmark configurations, counted by callgrind (valgrind), which,
# unlike wall-clock time, does not move with the machine's other load. For each
# configuration, two counts, each (Ir(20,000 calls) - Ir(10,000 calls)) / 10,000 so that
# set-up and first-call work cancel out:
#
#   loop  the calling thread's own work, counted inside observe_bench::counted_calls (for
#         the `x2` configurations, both threads' loops: per pair of calls);
#   all   every thread of the process: the log writer, the export thread, the receiver.
#         Background threads that wake on timers add a little noise to this count.
#
#   scripts/bench-instructions.sh                  every configuration but the HTTP ones
#   scripts/bench-instructions.sh full full+otel   these only
#
# Needs valgrind (Debian: apt install valgrind). `full+otlp-all` is left out: callgrind
# 3.19 aborts on it (an assertion on a signal delivered to another thread).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q -p observe-bench
bin="$CARGO_TARGET_DIR/release/observe-bench"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

if [ "$#" -gt 0 ]; then
  configs=("$@")
else
  mapfile -t configs < <("$bin" list | grep -v -x -e 'full+otlp-all' -e 'split:.*')
fi

# instructions <calls> [callgrind options...]: the program's total instruction count.
instructions() {
  local calls="$1"
  shift
  valgrind --tool=callgrind "$@" --callgrind-out-file="$out" "$bin" calls "$config" "$calls" \
    >/dev/null 2>&1
  callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ && !seen { gsub(",", "", $1); print $1; seen = 1 }'
}

printf '%-20s %10s %10s\n' config loop all
for config in "${configs[@]}"; do
  loop=(--collect-atstart=no --toggle-collect=observe_bench::counted_calls)
  l1=$(instructions 10000 "${loop[@]}")
  l2=$(instructions 20000 "${loop[@]}")
  a1=$(instructions 10000)
  a2=$(instructions 20000)
  printf '%-20s %10d %10d\n' "$config" $(((l2 - l1) / 10000)) $(((a2 - a1) / 10000))
done
