#!/usr/bin/env bash
# Sets up a fresh machine for Paris Live: system packages (Debian), a virtualenv with the Python
# dependencies, the Node tools used by the checks. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

need_apt=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need_apt+=(maven)
if [ "${PARIS_LIVE_SKIP_BROWSER:-0}" != 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
fi
command -v node >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${need_apt[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: please install: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -U pip uv
fi
stamp=.venv/.deps-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/uv pip install --python .venv/bin/python -q -e '.[dev]'
  rm -f .venv/.deps-*
  touch "$stamp"
fi

# The message catalogues, compiled (.po → .mo) when a .po is newer than its .mo.
PYBABEL=.venv/bin/pybabel PYTHON=.venv/bin/python bash scripts/i18n.sh compile

# Node tools for the checks (AsyncAPI parser, TimescaleDB-in-WASM check, axe-core), pinned by lock files.
for dir in . tests/platform/timescale; do
  if [ -f "$dir/package-lock.json" ]; then
    lock_stamp="$dir/node_modules/.lock-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
    if [ ! -f "$lock_stamp" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      touch "$lock_stamp"
    fi
  fi
done
