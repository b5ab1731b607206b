#!/usr/bin/env bash
# Installs what the test suite talks to and cargo cannot provide: Debian's `prometheus`
# package (the Prometheus server and `promtool`). Does nothing when they are present.
set -euo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to apt-get install prometheus" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing Debian's prometheus package (server + promtool)"
$sudo apt-get update -qq
# The package's service is not wanted here: tests start their own server on loopback.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null || { echo "install-deps: promtool still missing after install" >&2; exit 1; }
