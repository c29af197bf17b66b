#!/usr/bin/env bash
# Makes sure the real servers the tests and the local stack run are installed: Debian packages,
# installed with apt when running as root, otherwise named so a person can install them.
# Usage: system-packages.sh [demo|test]   (test, the default, also needs chromium for the
# report's screenshot test; the demo does not).
set -euo pipefail

# command → Debian package
declare -A needed=(
  [redis-server]=redis-server
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
)
case "${1:-test}" in
  test) needed[chromium]=chromium ;;
  demo) ;;
  *) echo "usage: $0 [demo|test]" >&2; exit 2 ;;
esac

missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needed[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged services; the tests start their own on free ports, so stop those.
  for pkg in "${missing[@]}"; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$pkg" >/dev/null 2>&1 || true; fi
    if command -v service >/dev/null 2>&1; then service "$pkg" stop >/dev/null 2>&1 || true; fi
  done
else
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
