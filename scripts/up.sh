#!/usr/bin/env bash
# Runs the whole platform locally (Kafka, Redis, PostgreSQL, stream workers, API, simulator, pages).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/paris-live up "$@"
