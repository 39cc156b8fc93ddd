"""Faults: what happens to stored work when Redis, PostgreSQL or a worker dies. Prints JSON, one entry a fault.

    .venv/bin/python bench/faults.py [--only redis,postgres,generation,training] [--out bench/results/faults.json]

Runs against PRIVATE services it starts and stops itself (never the shared ones): redis-server on
127.0.0.1:6391 and a throwaway PostgreSQL cluster on 127.0.0.1:5441 (initdb in a temp folder, run as the
`postgres` OS user when root), plus gunicorn and Celery workers pointed at them.

- redis:      annotators and reviewers work while Redis is stopped; an admin starts a job meanwhile. Labelling
              and review must keep answering, the job must be refused cleanly or left queued with a message,
              and it must run once Redis is back (the worker's sweeper resends it). Nothing lost.
- postgres:   PostgreSQL stops for a few seconds under load and comes back. Requests during the outage must
              fail fast (5xx, no hang), work must resume afterwards, no half-written rows.
- generation: SIGKILL the worker during a generation job on the tiny model, start another: the job finishes
              with exactly one candidate per (item, model, sample); none lost, none doubled.
- training:   SIGKILL the worker during a LoRA training job on the tiny model, start another: the job resumes
              from its checkpoint and finishes; every step's loss recorded once, exactly one new model version.

Exit status 1 when any fault's checks fail.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    CeleryWorker,
    Gunicorn,
    PrivatePostgres,
    PrivateRedis,
    admin_sql,
    child_env,
    django_setup,
    seed_project,
)

FAULTS = ("redis", "postgres", "generation", "training")


# ---- a small threaded load of annotators and reviewers ----------------------------------------------------

class Load:
    """Annotator and reviewer threads over the REST API; every response is recorded with its time."""

    def __init__(self, base_url: str, seed: dict, annotators: int = 4, reviewers: int = 2, timeout: float = 20):
        self.base_url, self.seed, self.timeout = base_url, seed, timeout
        self.users = ([("annotator", u) for u in seed["users"]["annotator"][:annotators]]
                      + [("reviewer", u) for u in seed["users"]["reviewer"][:reviewers]])
        self.events: list[dict] = []  # {t, endpoint, status, seconds}
        self.log: list[dict] = []  # successful submits
        self.refusals: list[str] = []  # the first few 4xx answers, for the report
        self.stuck: list[dict] = []  # reviewers handed the same refused comparison again and again
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def _record(self, endpoint: str, started: float, status) -> None:
        with self._lock:
            self.events.append({"t": started, "endpoint": endpoint, "status": status,
                                "seconds": time.monotonic() - started})

    def _call(self, client, endpoint: str, method: str, url: str, **kwargs):
        started = time.monotonic()
        try:
            r = client.request(method, url, **kwargs)
        except Exception as exc:
            self._record(endpoint, started, type(exc).__name__)
            time.sleep(0.1)
            return None
        self._record(endpoint, started, r.status_code)
        if 400 <= r.status_code < 500 and len(self.refusals) < 10:
            with self._lock:
                self.refusals.append(f"{endpoint} {r.status_code}: {r.text[:200]}")
        return r

    def _annotate(self, client, user: dict, rng: random.Random) -> None:
        pid = self.seed["project_id"]
        while not self._stop.is_set():
            r = self._call(client, "label-next", "POST", f"/api/projects/{pid}/next/", json={})
            if r is None or r.status_code != 200:
                time.sleep(0.1)
                continue
            item = r.json()["item"]
            if item is None:
                return
            values = {"needs_context": rng.choice(["yes", "no"])}
            r = self._call(client, "label-submit", "POST", f"/api/items/{item['id']}/annotation/",
                           json={"values": values, "time_spent_ms": 1000})
            if r is not None and r.status_code == 201:
                with self._lock:
                    self.log.append({"kind": "annotation", "user": user["username"], "item": item["id"]})
            time.sleep(0.05)

    def _review(self, client, user: dict, rng: random.Random) -> None:
        pid = self.seed["project_id"]
        refused = 0
        while not self._stop.is_set():
            r = self._call(client, "review-next", "GET", f"/api/projects/{pid}/review/next/")
            if r is None or r.status_code not in (200, 204):
                time.sleep(0.1)
                continue
            if r.status_code == 204:
                return
            card = r.json()
            body = {f"{s}_{d}": rng.randint(1, 5) for s in ("left", "right")
                    for d in ("helpfulness", "honesty", "harmlessness")}
            body["preference"] = rng.choice(["left", "right", "tie"])
            r = self._call(client, "review-submit", "POST", f"/api/projects/{pid}/review/{card['public_id']}/",
                           json=body)
            refused = refused + 1 if r is not None and r.status_code == 409 else 0
            if refused >= 5:  # the queue keeps handing out a comparison it then refuses: a livelock
                with self._lock:
                    self.stuck.append({"user": user["username"], "public_id": card["public_id"], "detail": r.text[:200]})
                return
            if r is not None and r.status_code == 201:
                with self._lock:
                    self.log.append({"kind": "judgment", "user": user["username"], "public_id": card["public_id"]})
            time.sleep(0.05)

    def start(self) -> Load:
        import httpx

        for i, (role, user) in enumerate(self.users):
            client = httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                  headers={"Authorization": f"Token {user['token']}"})
            target = self._annotate if role == "annotator" else self._review
            t = threading.Thread(target=target, args=(client, user, random.Random(i)), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(self.timeout + 5)

    def window(self, start: float, end: float) -> dict:
        """What happened to requests started in [start, end): statuses per endpoint, slowest answer."""
        rows = [e for e in self.events if start <= e["t"] < end]
        out = {}
        for endpoint in sorted({e["endpoint"] for e in rows}):
            mine = [e for e in rows if e["endpoint"] == endpoint]
            out[endpoint] = {"status": dict(Counter(str(e["status"]) for e in mine)),
                             "slowest_s": round(max(e["seconds"] for e in mine), 2)}
        return out


def _stored_vs_logged(seed: dict, log: list, failed_submits: int) -> dict:
    """Logged successes all stored exactly once; rows stored without a logged success are at most the
    submits whose answer the client never got (the commit can land just before the connection drops)."""
    from django.db.models import Count, Exists, OuterRef

    from labelstudio_app.labelling.models import Annotation, Assignment
    from labelstudio_app.review.models import Comparison, ComparisonClaim, Judgment

    pid = seed["project_id"]
    logged_a = {(e["user"], e["item"]) for e in log if e["kind"] == "annotation"}
    stored_a = list(Annotation.objects.filter(item__project_id=pid).values_list("annotator__username", "item_id"))
    logged_j = {(e["user"], e["public_id"]) for e in log if e["kind"] == "judgment"}
    stored_j = list(Judgment.objects.filter(comparison__round_id=seed["round_id"])
                    .values_list("reviewer__username", "comparison__public_id"))
    submitted = Assignment.objects.filter(item_id=OuterRef("item_id"), annotator_id=OuterRef("annotator_id"),
                                          state="submitted")
    orphans = Annotation.objects.filter(item__project_id=pid).exclude(Exists(submitted)).count()
    has_annotation = Annotation.objects.filter(item_id=OuterRef("item_id"), annotator_id=OuterRef("annotator_id"))
    hollow = Assignment.objects.filter(project_id=pid, state="submitted").exclude(Exists(has_annotation)).count()
    per_item = Annotation.objects.filter(item__project_id=pid).values("item_id").annotate(n=Count("id"))
    per_cmp = Comparison.objects.filter(round_id=seed["round_id"]).annotate(n=Count("judgments")) \
        .values_list("n", "judgments_count")
    done_claim = ComparisonClaim.objects.filter(comparison_id=OuterRef("comparison_id"),
                                                reviewer_id=OuterRef("reviewer_id"), state="done")
    judgments_without_done_claim = Judgment.objects.filter(comparison__round_id=seed["round_id"]) \
        .exclude(Exists(done_claim)).count()
    checks = {
        "annotations_logged": len(logged_a), "annotations_stored": len(stored_a),
        "annotations_missing": len(logged_a - set(stored_a)),
        "annotations_stored_twice": len(stored_a) - len(set(stored_a)),
        "annotations_unconfirmed": len(set(stored_a) - logged_a),
        "judgments_logged": len(logged_j), "judgments_stored": len(stored_j),
        "judgments_missing": len(logged_j - set(stored_j)),
        "judgments_unconfirmed": len(set(stored_j) - logged_j),
        "half_written_annotations_without_submitted_assignment": orphans,
        "half_written_submitted_assignments_without_annotation": hollow,
        "judgments_without_done_claim": judgments_without_done_claim,
        "items_over_annotated": sum(1 for r in per_item if r["n"] > seed["overlap"]),
        "comparisons_with_wrong_judgments_count": sum(1 for n, c in per_cmp if n != c),
        "submits_without_answer": failed_submits,
    }
    ok = (not checks["annotations_missing"] and not checks["judgments_missing"] and not orphans and not hollow
          and not checks["annotations_stored_twice"] and not checks["items_over_annotated"]
          and not checks["comparisons_with_wrong_judgments_count"]
          and checks["annotations_unconfirmed"] + checks["judgments_unconfirmed"] <= failed_submits)
    return {"ok": bool(ok), **checks}


def _failed_submits(load: Load) -> int:
    return sum(1 for e in load.events if e["endpoint"] in ("label-submit", "review-submit")
               and not (isinstance(e["status"], int) and e["status"] < 500))


def _session(base_url: str, username: str, password: str):
    """An httpx client logged in through the real login form (session + CSRF cookie)."""
    import httpx

    c = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    c.get("/accounts/login/")
    r = c.post("/accounts/login/", data={"username": username, "password": password,
                                         "csrfmiddlewaretoken": c.cookies["csrftoken"]})
    assert r.status_code == 302, f"login failed: {r.status_code}"
    c.get("/")  # a page with a form refreshes the csrftoken cookie after login
    return c


def _wait(predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


# ---- the faults -------------------------------------------------------------------------------------------

def fault_redis(env: dict) -> dict:
    from labelstudio_app.jobs.models import Job

    redis, url = env["redis"], env["gunicorn"].url
    seed = seed_project(items=1000, annotators=6, reviewers=2, review_items=500, tag="redis_")
    worker = CeleryWorker(env["log_dir"], env=env["child_env"]).start()
    load = Load(url, seed).start()
    try:
        time.sleep(2)
        outage_start = time.monotonic()
        redis.stop()
        time.sleep(1)
        admin = _session(url, "bench_admin", "bench-password-1")
        t0 = time.monotonic()
        r = admin.post("/jobs/selftest/", headers={"X-CSRFToken": admin.cookies["csrftoken"]})
        start_job = {"status": r.status_code, "seconds": round(time.monotonic() - t0, 2),
                     "location": r.headers.get("location")}
        job = Job.objects.filter(kind="selftest").order_by("-id").first()
        during = {"state": job.state, "message": job.message} if job else None
        page = admin.get(r.headers["location"]) if r.status_code == 302 else None
        shows_message = bool(page is not None and job and job.message and job.message.split(";")[0] in page.text)
        time.sleep(4)
        outage_end = time.monotonic()
        redis.start()
        back = time.monotonic()
        finished = _wait(lambda: Job.objects.filter(pk=job.pk, state__in=Job.FINISHED).first(), 120) if job else None
        recovered_s = round(time.monotonic() - back, 1)
        time.sleep(1)
    finally:
        load.stop()
        worker.stop()
    outage = load.window(outage_start, outage_end)
    worked = {k: v for k, v in outage.items() if any(s in v["status"] for s in ("200", "201", "204"))}
    errors_5xx = sum(n for v in outage.values() for s, n in v["status"].items() if not s.isdigit() or int(s) >= 500)
    stored = _stored_vs_logged(seed, load.log, _failed_submits(load))
    ok = (start_job["status"] in (302, 303, 503) and start_job["seconds"] < 10 and during
          and during["state"] == "queued" and bool(during["message"]) and finished is not None
          and finished.state == "succeeded" and {"label-submit", "review-submit"} <= set(worked)
          and errors_5xx == 0 and stored["ok"] and not load.stuck)
    return {"fault": "redis", "ok": bool(ok), "outage_seconds": round(outage_end - outage_start, 1),
            "requests_during_outage": outage, "errors_5xx_during_outage": errors_5xx,
            "start_job_during_outage": start_job, "job_during_outage": during,
            "job_page_shows_the_message": shows_message, "refusals": load.refusals, "reviewers_stuck": load.stuck,
            "job_after_redis_back": {"state": finished.state if finished else "not finished",
                                     "attempts": finished.attempts if finished else None,
                                     "seconds_to_finish": recovered_s},
            "stored": stored}


def fault_postgres(env: dict) -> dict:
    pg, url = env["pg"], env["gunicorn"].url
    seed = seed_project(items=1000, annotators=6, reviewers=2, review_items=500, tag="pg_")
    from django.db import connections

    connections.close_all()
    load = Load(url, seed, timeout=20).start()
    try:
        time.sleep(2)
        down = time.monotonic()
        pg.stop()
        time.sleep(4)
        up_at = time.monotonic()
        pg._ctl("start")
        up = time.monotonic()
        time.sleep(5)
        end = time.monotonic()
    finally:
        load.stop()
    connections.close_all()
    during = load.window(down, up)
    after = load.window(up, end)
    after_late = load.window(up + 2, end)
    slowest = max([v["slowest_s"] for v in during.values()] or [0])
    recovered = {k for k, v in after.items() if any(s in v["status"] for s in ("200", "201", "204"))}
    failed_after = sum(n for v in after_late.values() for s, n in v["status"].items()
                       if not s.isdigit() or int(s) >= 500)
    statuses = Counter()
    for v in during.values():
        statuses.update(v["status"])
    stored = _stored_vs_logged(seed, load.log, _failed_submits(load))
    clean = all((s.isdigit() and int(s) in (500, 502, 503)) or s in ("200", "201", "204") for s in statuses)
    ok = (slowest < 15 and clean and {"label-submit", "review-submit"} <= recovered and failed_after == 0
          and stored["ok"] and not load.stuck)
    return {"fault": "postgres", "ok": bool(ok), "outage_seconds": round(up - down, 1),
            "restart_took_seconds": round(up - up_at, 1), "requests_during_outage": during,
            "slowest_answer_during_outage_s": slowest, "requests_after_restart": after,
            "failures_from_2s_after_restart": failed_after, "refusals": load.refusals,
            "reviewers_stuck": load.stuck, "stored": stored}


def _tiny_version(env: dict, name: str):
    from django.conf import settings

    from labelstudio_app.evaluation.models import ModelVersion
    from labelstudio_app.evaluation.services import model_version_create
    from labelstudio_app.projects.models import Project
    from workers.tiny_model import build_tiny_model

    project = Project.objects.get(pk=env["seed"]["project_id"])
    folder = Path(settings.ARTIFACTS_DIR) / "models" / "tiny"
    if not (folder / "config.json").exists():
        build_tiny_model(folder, pretrain_steps=0)
    existing = ModelVersion.objects.filter(project=project, name=name).first()
    return existing or model_version_create(project=project, user=env["admin"], name=name, base_model=str(folder))


def _kill_and_restart(env: dict, job_id: int, until_done: int, after_kill=None) -> dict:
    from labelstudio_app.jobs.models import Job

    first = CeleryWorker(env["log_dir"], env=env["child_env"]).start()
    try:
        reached = _wait(lambda: Job.objects.filter(pk=job_id, progress_done__gte=until_done).first(), 240, 0.2)
        killed_at = Job.objects.get(pk=job_id).progress_done
        first.kill()
    finally:
        first.stop()
    state_after_kill = Job.objects.get(pk=job_id).state
    at_kill = after_kill() if after_kill else {}
    second = CeleryWorker(env["log_dir"], env=env["child_env"]).start()
    try:
        done = _wait(lambda: Job.objects.filter(pk=job_id, state__in=Job.FINISHED).first(), 300)
    finally:
        second.stop()
    job = Job.objects.get(pk=job_id)
    return {"reached_before_kill": bool(reached), "killed_at_progress": killed_at,
            "state_after_kill": state_after_kill, "finished": done is not None, "state": job.state,
            "attempts": job.attempts, "progress": f"{job.progress_done}/{job.progress_total}",
            "error": job.error[:500], "resumed_from_checkpoint": "resum" in job.log.lower(), **at_kill}


def fault_generation(env: dict) -> dict:
    from django.db.models import Count

    from labelstudio_app.evaluation.models import Candidate
    from labelstudio_app.evaluation.services import generation_job_create
    from labelstudio_app.jobs.models import Job
    from labelstudio_app.projects.models import Item, Project

    mv = _tiny_version(env, "tiny for generation fault")
    project = Project.objects.get(pk=env["seed"]["project_id"])
    item_ids = list(Item.objects.filter(project=project).order_by("id").values_list("pk", flat=True)[:48])
    job = generation_job_create(project=project, user=env["admin"], model_versions=[mv], items=item_ids,
                                n_samples=1, params={"max_new_tokens": 48, "seed": 7}, batch_size=4)
    # Write every batch (as a slow real model does), so the kill lands between two writes; no worker runs yet.
    Job.objects.filter(pk=job.pk).update(params={**job.params, "checkpoint_seconds": 0})
    rows = Candidate.objects.filter(model_version=mv, item_id__in=item_ids)
    run = _kill_and_restart(env, job.pk, until_done=12,
                            after_kill=lambda: {"candidates_stored_at_kill": rows.count()})
    per_key = rows.values("item_id", "sample_index", "params_hash").annotate(n=Count("id"))
    stored = {"candidates": rows.count(), "expected": len(item_ids),
              "keys_doubled": sum(1 for r in per_key if r["n"] > 1),
              "items_missing": len(set(item_ids) - set(rows.values_list("item_id", flat=True))),
              "by_attempt_jobs": rows.values("job_id").distinct().count()}
    ok = (run["state"] == "succeeded" and run["attempts"] >= 2 and stored["candidates"] == len(item_ids)
          and not stored["keys_doubled"] and not stored["items_missing"])
    return {"fault": "worker SIGKILL during generation", "ok": bool(ok), "job": run, "stored": stored}


def fault_training(env: dict) -> dict:
    from labelstudio_app.evaluation.models import ModelVersion
    from labelstudio_app.projects.models import Item, Project
    from labelstudio_app.training import services as training
    from labelstudio_app.training.models import TrainingRun

    base = _tiny_version(env, "tiny for training fault")
    project = Project.objects.get(pk=env["seed"]["project_id"])
    project.training_template = {"instruction": "{text}", "output": "{value:answer}"}
    project.save(update_fields=["training_template"])
    answers = ["可以，先转 ONNX 再部署。", "Yes, enable fp16.", "需要", "不需要", "No."]
    Item.objects.bulk_create([Item(project=project, text=f"训练样本 training example #{i}", status=Item.Status.DONE,
                                   task_type="deployment / edge", final_values={"answer": answers[i % 5]})
                              for i in range(40)])
    snap = training.snapshot_create(project=project, user=env["admin"], name="fault snapshot",
                                    recipe={"heldout": {"n": 4}, "seed": 3})
    hp = {"r": 8, "alpha": 16, "learning_rate": 5e-3, "batch_size": 4, "max_seq_length": 128, "warmup_ratio": 0,
          "lr_scheduler": "constant", "seed": 1, "max_steps": 40, "save_steps": 10}
    run = training.training_run_create(project=project, user=env["admin"], base_version=base, snapshot=snap,
                                       hyperparams=hp)
    outcome = _kill_and_restart(env, run.job_id, until_done=15)
    run = TrainingRun.objects.get(pk=run.pk)
    steps = [p[0] for p in run.loss_history]
    children = ModelVersion.objects.filter(parent=base).count()
    stored = {"loss_steps": len(steps), "loss_steps_unique": len(set(steps)),
              "loss_steps_expected": 40, "new_model_versions": children,
              "result_version": run.result_version_id is not None}
    ok = (outcome["state"] == "succeeded" and outcome["attempts"] >= 2 and steps == list(range(1, 41))
          and children == 1 and stored["result_version"])
    return {"fault": "worker SIGKILL during training", "ok": bool(ok), "job": outcome, "stored": stored}


RUNNERS = {"redis": fault_redis, "postgres": fault_postgres, "generation": fault_generation,
           "training": fault_training}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(FAULTS), help=f"comma-separated subset of {', '.join(FAULTS)}")
    p.add_argument("--redis-port", type=int, default=6391)
    p.add_argument("--pg-port", type=int, default=5441)
    p.add_argument("--out", type=Path, default=RESULTS / "faults.json")
    args = p.parse_args(argv)
    only = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(only) - set(FAULTS)
    if unknown:
        p.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="flywheel-faults-"))
    data_dir = str(log_dir / "data")
    redis = PrivateRedis(log_dir, args.redis_port)
    pg = PrivatePostgres(args.pg_port)
    gunicorn = None
    results = []
    t0 = time.monotonic()
    try:
        redis.start()
        pg.start()
        admin_sql('CREATE DATABASE "bench_faults"', base=pg.base)
        database_url = f"postgres://postgres@127.0.0.1:{args.pg_port}/bench_faults"
        django_setup(database_url=database_url, redis_url=redis.url, data_dir=data_dir)
        import logging

        from django.contrib.auth import get_user_model

        logging.getLogger("httpx").setLevel(logging.WARNING)

        seed = seed_project(items=60, annotators=0, reviewers=0, review_items=1, tag="jobs_")
        env_vars = child_env(DATABASE_URL=database_url, REDIS_URL=redis.url, FLYWHEEL_DATA_DIR=data_dir,
                             FLYWHEEL_JOB_STALE_SECONDS=3, FLYWHEEL_JOB_SWEEP_SECONDS=1)
        gunicorn = Gunicorn(log_dir, env=env_vars, workers=2, threads=4, timeout=30).start()
        env = {"redis": redis, "pg": pg, "seed": seed, "gunicorn": gunicorn, "log_dir": log_dir,
               "child_env": env_vars, "admin": get_user_model().objects.get(username="bench_admin")}
        for name in only:
            started = time.monotonic()
            try:
                result = RUNNERS[name](env)
            except Exception as exc:
                result = {"fault": name, "ok": False, "error": f"{type(exc).__name__}: {exc}",
                          "traceback": traceback.format_exc(limit=6)}
            result["seconds"] = round(time.monotonic() - started, 1)
            results.append(result)
            print(f"[faults] {name}: {'ok' if result['ok'] else 'FAILED'} ({result['seconds']} s)", file=sys.stderr)
    finally:
        if gunicorn:
            gunicorn.stop()
        from django.db import connections

        connections.close_all()
        redis.stop()
        pg.destroy()
    out = {"bench": "faults", "ok": all(r["ok"] for r in results) and len(results) == len(only),
           "seconds": round(time.monotonic() - t0, 1), "logs": str(log_dir), "faults": results}
    text = json.dumps(out, indent=2, ensure_ascii=False, default=str)
    args.out.write_text(text + "\n")
    print(text)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
