#!/usr/bin/env bash
# One command from a fresh clone to a running Flywheel on http://127.0.0.1:8000 :
# installs, migrates, creates demo users and data, builds the offline tiny model, then runs the
# web server and a Celery worker together. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export FLYWHEEL_DEV=${FLYWHEEL_DEV:-1}
export FLYWHEEL_DATA_DIR=${FLYWHEEL_DATA_DIR:-$PWD/data}
PORT=${PORT:-8000}
VENV=${VENV:-.venv}
mkdir -p "$FLYWHEEL_DATA_DIR"
"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py flywheel_demo

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT
# One worker takes both queues; -P solo keeps torch out of forked children (see ML-NOTES).
"$VENV/bin/celery" -A workers worker -Q default,gpu -P solo --without-gossip --without-mingle -l info &
pids+=($!)
"$VENV/bin/gunicorn" labelstudio_app.wsgi -b "127.0.0.1:$PORT" -w 2 --threads 4 --access-logfile - &
pids+=($!)
echo "Flywheel is running on http://127.0.0.1:$PORT  (Ctrl-C stops the web server and the worker)"
wait -n "${pids[@]}"
