#!/usr/bin/env bash
# The Prometheus rules for service-level objectives (prometheus/): `promtool check rules`
# (syntax, and lints as errors), then their `promtool test rules` unit tests, which feed
# the rules synthetic series. Exits non-zero on the first failure. ~1 min on 2 cores.
#
#   scripts/check-rules.sh                         with promtool from PATH (installed when missing)
#   PROMTOOL=/path/to/promtool scripts/check-rules.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PROMTOOL:-}" ]; then
  bash scripts/install-deps.sh
fi
promtool="${PROMTOOL:-promtool}"

"$promtool" check rules --lint=all --lint-fatal prometheus/observe-slo.rules.yml
"$promtool" test rules prometheus/tests/*.test.yml
