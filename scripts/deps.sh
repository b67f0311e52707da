#!/bin/sh
# Installs what linkmirror and its tests need on a Debian/Ubuntu machine, only where missing:
# Deno 2 from the npm registry (the `deno` package ships the real binary) and iproute2.
# With --test (or LINKMIRROR_DEPS_TEST=1) also what only the test suite calls: ping and
# systemd-analyze. Idempotent; needs root for apt-get and a global npm install.
set -eu

if [ "${1:-}" = --test ]; then LINKMIRROR_DEPS_TEST=1; fi

deno_ok() {
  command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | head -n1 | grep -q '^deno 2\.'
}

need_apt=""
command -v ip >/dev/null 2>&1 || need_apt="$need_apt iproute2"
# Deno comes from the npm registry: without npm, get Debian's first.
deno_ok || command -v npm >/dev/null 2>&1 || need_apt="$need_apt npm"
if [ "${LINKMIRROR_DEPS_TEST:-}" = 1 ]; then
  # Test extras: systemd-analyze checks the unit file (tests/systemd_unit.test.ts); ping checks
  # the namespace fixture's veth pairs (tests/kernel/netns.test.ts).
  command -v systemd-analyze >/dev/null 2>&1 || need_apt="$need_apt systemd"
  command -v ping >/dev/null 2>&1 || need_apt="$need_apt iputils-ping"
fi
if [ -n "$need_apt" ]; then
  echo "deps: installing$need_apt with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if ! deno_ok; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: Deno 2 is missing and so is npm; install Node.js/npm (apt-get install npm) or Deno itself" >&2
    exit 1
  fi
  echo "deps: installing Deno 2 from the npm registry (npm install -g deno@2)" >&2
  npm install -g --no-fund --no-audit deno@2 >/dev/null 2>&1 || npm install -g deno@2
  hash -r 2>/dev/null || true
  deno_ok || { echo "deps: deno is still not on PATH after npm install -g deno@2" >&2; exit 1; }
fi
