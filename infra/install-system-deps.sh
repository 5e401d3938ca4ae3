#!/usr/bin/env bash
# Install the machine binaries the stack and the test tiers run, once, from Debian's packages:
# PostgreSQL and Redis (the integration and stack tiers, `quarry up`), nginx, Prometheus,
# Alertmanager, Chromium (the e2e tier), Node.js (the Serverless Framework CLI) and wrk (the
# gateway benchmark's load generator). Their system services are never started: Quarry starts
# its own instances on free ports.
#
#   infra/install-system-deps.sh            install what is missing (as root)
#   infra/install-system-deps.sh --dry-run  print the packages it would install, install nothing
#
# A binary counts as present when it is on PATH or where Debian's package puts it (PostgreSQL's
# versioned /usr/lib/postgresql/N/bin, which is not on PATH). QUARRY_SYSTEM_ROOT (default /)
# is the root those fixed places are looked up under, so a test can stand in a bare machine.
# Detection uses shell builtins only, so it works with any PATH.
set -euo pipefail
dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  "") ;;
  *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac
root="${QUARRY_SYSTEM_ROOT:-}"
root="${root%/}"

# has NAME [DIR...]: NAME is on PATH or an executable file in one of DIRs (under the root).
has() {
  local name=$1 dir
  shift
  command -v "$name" >/dev/null 2>&1 && return 0
  for dir in "$@"; do
    [ -x "$root$dir/$name" ] && [ -f "$root$dir/$name" ] && return 0
  done
  return 1
}

# PostgreSQL's server binaries, all four from one version: on PATH, or in any of Debian's
# versioned folders (the emulator's emulator/stack/services/postgres.py looks in the same places).
has_postgres() {
  local dir
  for dir in "$root"/usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/pg_basebackup" ] \
      && [ -x "$dir/postgres" ] && return 0
  done
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 \
    && command -v pg_basebackup >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}

need=()
add() {
  local pkg
  for pkg in "${need[@]}"; do [ "$pkg" = "$1" ] && return 0; done
  need+=("$1")
}
has_postgres || add postgresql
has redis-server /usr/bin /usr/sbin || add redis-server
has nginx /usr/sbin /usr/bin || add nginx-light
has prometheus /usr/bin || add prometheus
has promtool /usr/bin || add prometheus
has prometheus-alertmanager /usr/bin || add prometheus-alertmanager
has amtool /usr/bin || add prometheus-alertmanager
# Headless Chromium for the dashboard's browser tests (tests/e2e, driven by Playwright)
has chromium /usr/bin || add chromium
# Node.js and npm run the pinned Serverless Framework CLI (infra/serverless, `make serverless-cli`)
has node /usr/bin || add nodejs
has npm /usr/bin || add npm
# wrk, the HTTP load generator of the gateway benchmark (`quarry bench gateway`): a C client
# that costs the two cores far less than a Python one would
has wrk /usr/bin || add wrk

if [ "$dry_run" = 1 ]; then
  if [ ${#need[@]} -eq 0 ]; then
    echo "nothing to install"
  else
    echo "would install: ${need[*]}"
  fi
  exit 0
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
  exit 1
fi
# policy-rc.d answering 101 keeps the packages' services from starting (Redis, PostgreSQL's
# main cluster, nginx, Prometheus): the stack runs its own on free ports.
policy=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
trap '[ "$created" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
