#!/usr/bin/env bash
# Installs what the test suite talks to and cargo cannot provide: Debian's `prometheus`
# package (the Prometheus server and `promtool`), and the Prometheus Python client, whose
# strict OpenMetrics parser `observe_testkit::openmetrics::parse_strict` runs. Does nothing
# for what is already present.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to run: $*" >&2; exit 1; }
    sudo "$@"
  fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  # Package services are not wanted here: tests start their own servers on loopback.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_prometheus() {
  if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    return
  fi
  echo "install-deps: installing Debian's prometheus package (server + promtool)"
  apt_install prometheus
  command -v promtool >/dev/null || { echo "install-deps: promtool still missing after install" >&2; exit 1; }
}

has_openmetrics_parser() {
  python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null
}

install_prometheus_client() {
  command -v python3 >/dev/null || { echo "install-deps: python3 is missing (the OpenMetrics check runs it)" >&2; exit 1; }
  if has_openmetrics_parser; then
    return
  fi
  echo "install-deps: installing prometheus-client (PyPI) for $(command -v python3)"
  # pip first: it installs into whichever python3 is first on PATH (pyenv's here). A
  # Debian-managed python3 refuses pip (PEP 668); Debian's own package serves that one.
  if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check prometheus-client; then
    echo "install-deps: pip refused; installing Debian's python3-prometheus-client"
    apt_install python3-prometheus-client
  fi
  has_openmetrics_parser || { echo "install-deps: python3 still cannot import prometheus_client.openmetrics.parser" >&2; exit 1; }
}

install_prometheus
install_prometheus_client
