#!/usr/bin/env bash
# Runs every benchmark in bench/ one after another (each prints JSON) and keeps the outputs in bench/results/.
# Needs PostgreSQL on 127.0.0.1 (the benches create and drop their own databases). Run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
VENV=${VENV:-.venv}
export FLYWHEEL_DEV=1
mkdir -p bench/results
for bench in ${BENCHES:-labelling_latency review_stats import_export api_import generation training load faults loop}; do
  echo "== $bench (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$VENV/bin/python" "bench/$bench.py" | tee "bench/results/$bench.json"
done
