"""Redis outage and PostgreSQL restart under load, against PRIVATE Redis and PostgreSQL instances.

Runs bench/faults.py (which starts its own redis-server on 127.0.0.1:6391 and a throwaway PostgreSQL cluster
on 127.0.0.1:5441, gunicorn and a Celery worker, and stops them all) and checks the result of each fault.
The shared PostgreSQL and Redis are never touched. ~40 s. The worker SIGKILL faults (generation, training)
are in the bench only; tests/training and tests/jobs cover a SIGKILL in their own suites.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bootstrap import require
from tests.conftest import ROOT

pytestmark = pytest.mark.worker

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    if not shutil.which("redis-server") or not (PG_BIN / "initdb").exists():
        require("needs redis-server and PostgreSQL server binaries to start private instances")
    out = tmp_path_factory.mktemp("faults") / "faults.json"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "FLYWHEEL_TEST_DB_NAME", "FLYWHEEL_DATA_DIR")}
    proc = subprocess.run([sys.executable, "bench/faults.py", "--only", "redis,postgres", "--out", str(out),
                           "--redis-port", "6392", "--pg-port", "5442"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return {f["fault"]: f for f in json.loads(out.read_text())["faults"]}


def test_it_keeps_labelling_and_review_working_while_redis_is_down(faults):
    f = faults["redis"]
    during = f["requests_during_outage"]
    assert during["label-submit"]["status"].get("201", 0) > 0, during
    assert during["review-submit"]["status"].get("201", 0) > 0, during  # reviews must happen, not just be empty
    assert f["errors_5xx_during_outage"] == 0, during
    assert not f.get("reviewers_stuck"), f["reviewers_stuck"]


def test_it_queues_a_job_started_during_the_redis_outage_and_runs_it_when_redis_is_back(faults):
    f = faults["redis"]
    assert f["start_job_during_outage"]["status"] == 302 and f["start_job_during_outage"]["seconds"] < 10
    assert f["job_during_outage"]["state"] == "queued"
    assert "broker" in f["job_during_outage"]["message"]
    assert f["job_page_shows_the_message"]
    assert f["job_after_redis_back"]["state"] == "succeeded", f["job_after_redis_back"]


def test_it_loses_nothing_across_the_redis_outage(faults):
    stored = faults["redis"]["stored"]
    assert stored["ok"], stored
    assert stored["annotations_logged"] > 0 and stored["annotations_missing"] == 0


def test_it_fails_fast_while_postgres_is_down_and_recovers(faults):
    f = faults["postgres"]
    assert f["slowest_answer_during_outage_s"] < 15, f["requests_during_outage"]
    statuses = {s for v in f["requests_during_outage"].values() for s in v["status"]}
    assert statuses <= {"200", "201", "204", "500", "502", "503"}, statuses  # no timeouts, no hangs
    after = f["requests_after_restart"]
    assert after["label-submit"]["status"].get("201", 0) > 0, after
    assert f["failures_from_2s_after_restart"] == 0, after


def test_it_writes_no_half_rows_across_the_postgres_restart(faults):
    stored = faults["postgres"]["stored"]
    assert stored["ok"], stored
    assert stored["half_written_annotations_without_submitted_assignment"] == 0
    assert stored["half_written_submitted_assignments_without_annotation"] == 0


def test_it_does_not_livelock_a_reviewer_after_the_postgres_restart(faults):
    assert not faults["postgres"].get("reviewers_stuck"), faults["postgres"]["reviewers_stuck"]
