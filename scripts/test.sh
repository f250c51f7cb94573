#!/usr/bin/env bash
# The test command: set-up, the local services, then lint, types and tests from one entry point.
# Extra arguments go to pytest (e.g. scripts/test.sh -k occupancy).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== services"
paris-live services start
echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy
echo "== pytest"
pytest "$@"
