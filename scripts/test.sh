#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine (system packages included) and runs it.
# PostgreSQL and Redis on 127.0.0.1 are used when they answer and required when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/install.sh
bash scripts/install-system.sh
[ -f scripts/install-vllm.sh ] && bash scripts/install-vllm.sh
exec "$VENV/bin/python" -m pytest "$@"
