#!/usr/bin/env bash
# Installs the Debian packages the local topology and the tests need, once: Alertmanager, amtool,
# promtool, and chromium (tests/ui drives the Airflow UI in it through Playwright).
# PostgreSQL 15 server binaries are expected on the machine already (see README).
set -euo pipefail
missing=()
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v promtool >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages start their own daemons where an init system runs; ours start on our ports.
for svc in prometheus-alertmanager prometheus; do
  (service "$svc" stop || true) >/dev/null 2>&1
done
