"""The whole loop through the app's own REST API and jobs, on SmolLM2-135M-Instruct, on this CPU.

    python bench/loop.py [--samples DIR] [--epochs 3] [--lr 5e-4] [--r 16] [--alpha 32] [--batch 8]
                         [--max-seq 256] [--labels zh|en] [--heldout 6] [--out bench/results/loop.json]

A throwaway database `bench_loop`, a private Redis, gunicorn and one Celery worker (queues default,gpu), as the
other benches. Then, every step through the API as a user would:
import `needs_context.jsonl` (from ../shared/data/make_samples.py) -> label every item from the file's ground
truth -> register the converted SmolLM2 folder as a model version -> snapshot with whole question templates held
out (`metadata.template`) -> LoRA training run (the automatic held-out audit scores by log-likelihood) -> the
automatic generation and blind round new vs parent -> a reviewer who knows the truth judges it (prefers the
answer whose parsed label is right; tie when both or neither are). Prints JSON with the held-out metrics of base
and adapter, the baseline, McNemar p, the win rate with its 95% interval, eval loss before / after and the wall
time of each stage.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    ROOT,
    CeleryWorker,
    Gunicorn,
    PrivateRedis,
    child_env,
    django_setup,
    throwaway_database,
)

# The model answers the option's value; likelihood scoring compares exactly these strings. `zh` keeps the file's
# own labels (as a Chinese team would), `en` maps them to English words the base model already leans on.
VALUES = {"zh": {"需要": "需要", "不需要": "不需要", "不是问题": "不是问题"},
          "en": {"需要": "yes", "不需要": "no", "不是问题": "not_question"}}


def question(values: dict) -> dict:
    needs, alone, other = values["需要"], values["不需要"], values["不是问题"]
    return {"name": "needs_context", "kind": "single_choice", "label": "Does it need the chat context?",
            "required": True,
            "options": [{"value": needs, "label": "needs the context", "key": "1"},
                        {"value": alone, "label": "stands alone", "key": "2"},
                        {"value": other, "label": "not a question", "key": "3"}]}


def template(values: dict) -> dict:
    needs, alone, other = values["需要"], values["不需要"], values["不是问题"]
    return {"system": "You label questions from a developer group chat.",
            "instruction": "Chat context:\n{context}\n\nMessage: {text}\n\nDoes the message need the chat "
                           f"context to be understood? Answer with one label: {needs} (it needs the context), "
                           f"{alone} (it stands alone) or {other} (it is not a question).",
            "output": "{value:needs_context}"}


class Api:
    def __init__(self, base: str, token: str):
        import requests

        self.base, self.s = base, requests.Session()
        self.s.headers["Authorization"] = f"Token {token}"

    def __call__(self, method: str, path: str, expect: tuple = (200, 201, 202, 204), **kw):
        r = self.s.request(method, self.base + path, timeout=120, **kw)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:2000]}")
        return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else None


def wait(what: str, predicate, timeout: float, worker: CeleryWorker, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if not worker.alive():
            raise RuntimeError(f"worker died while waiting for {what}:\n{worker.log()[-4000:]}")
        time.sleep(interval)
    raise RuntimeError(f"{what}: not done after {timeout:.0f}s\n{worker.log()[-4000:]}")


def job_done(api: Api, job_id: int) -> dict | None:
    job = api("GET", f"/api/jobs/{job_id}/")
    if job["state"] in ("failed", "cancelled"):
        raise RuntimeError(f"job {job_id} {job['state']}: {job.get('error')}\n{job.get('log', '')[-3000:]}")
    return job if job["state"] == "succeeded" else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", help="folder with needs_context.jsonl (default: made now by make_samples.py)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-seq", type=int, default=256)
    ap.add_argument("--tiny", action="store_true", help="the random tiny model instead (checks the plumbing, fast)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop training early (a smoke run of the plumbing)")
    ap.add_argument("--labels", choices=sorted(VALUES), default="zh",
                    help="the answers the model learns: the file's own labels (zh) or English words (en)")
    ap.add_argument("--heldout", type=int, default=6, help="whole question templates held out")
    ap.add_argument("--redis-port", type=int, default=18801)
    ap.add_argument("--out", default=str(RESULTS / "loop.json"))
    a = ap.parse_args()

    t_all = time.monotonic()
    stages: dict[str, float] = {}
    tmp = Path(tempfile.mkdtemp(prefix="flywheel-loop-"))
    samples = Path(a.samples) if a.samples else tmp / "samples"
    if not a.samples:
        script = ROOT.parent / "shared" / "data" / "make_samples.py"  # else the demo's vendored copy
        script = script if script.exists() else ROOT / "labelstudio_app" / "demo" / "samples.py"
        subprocess.run([sys.executable, str(script), str(samples)], check=True, capture_output=True)
    rows = [json.loads(line) for line in open(samples / "needs_context.jsonl", encoding="utf-8")]
    values = VALUES[a.labels]
    needs_q = question(values)
    truth = {r["external_id"]: values[r["label"]] for r in rows}

    from workers.models.smollm2 import default_model_dir, smollm2_prepare

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers started below are stopped
    t = time.monotonic()
    if a.tiny:
        from workers.tiny_model import build_tiny_model

        model_dir = build_tiny_model(tmp / "models" / "tiny").resolve()
    else:
        model_dir = smollm2_prepare(default_model_dir()).resolve()
    stages["model_prepare_s"] = round(time.monotonic() - t, 1)
    os.environ["FLYWHEEL_MODEL_ROOTS"] = str(model_dir.parent)
    os.environ.setdefault("FLYWHEEL_API_READ_RATE", "1000000/min")

    redis = PrivateRedis(tmp, port=a.redis_port).start()
    gunicorn = worker = None
    with throwaway_database("bench_loop") as db_url:
        try:
            django_setup(database_url=db_url, redis_url=redis.url, data_dir=str(tmp / "data"))
            from django.contrib.auth import get_user_model
            from rest_framework.authtoken.models import Token

            from labelstudio_app.audit.parser import ParserConfig, parse_answer

            User = get_user_model()
            tokens = {}
            for name, staff in (("loop_admin", True), ("loop_annotator", False), ("loop_reviewer", False)):
                user = User.objects.create_user(name, password="bench-password-1", is_staff=staff,
                                                is_superuser=staff)
                tokens[name] = Token.objects.create(user=user).key
            env = child_env()
            gunicorn = Gunicorn(tmp, env=env, workers=2, threads=4, timeout=120).start()
            worker = CeleryWorker(tmp, env=env).start(timeout=180)
            admin = Api(gunicorn.url, tokens["loop_admin"])
            annotator = Api(gunicorn.url, tokens["loop_annotator"])
            reviewer = Api(gunicorn.url, tokens["loop_reviewer"])

            project = admin("POST", "/api/projects/", json={
                "name": "loop bench: needs context", "overlap": 1, "qa_required": False,
                "training_template": template(values)})
            pid = project["id"]
            admin("PUT", f"/api/projects/{pid}/schema/", json={"label_schema": [needs_q]})
            for name, role in (("loop_annotator", "annotator"), ("loop_reviewer", "reviewer")):
                admin("POST", f"/api/projects/{pid}/members/", json={"username": name, "role": role})

            # ---- import ----
            t = time.monotonic()
            with open(samples / "needs_context.jsonl", "rb") as fh:
                job = admin("POST", f"/api/projects/{pid}/imports/",
                            files={"file": ("needs_context.jsonl", fh)}, data={"format": "items", "options": "{}"})
            wait("import", lambda: job_done(admin, job["id"]), 300, worker, 0.3)
            stages["import_s"] = round(time.monotonic() - t, 1)

            # ---- label from the ground truth ----
            t = time.monotonic()
            external, after = {}, None
            while True:
                page = admin("GET", f"/api/projects/{pid}/items/", params={"limit": 500, **({"after": after} if after else {})})
                external.update({it["id"]: it["external_id"] for it in page["results"]})
                after = page["next_after"]
                if not after:
                    break
            labelled = 0
            while True:
                card = annotator("POST", f"/api/projects/{pid}/next/")
                if not card or not card.get("item"):
                    break
                item_id = card["item"]["id"]
                annotator("POST", f"/api/items/{item_id}/annotation/",
                          json={"values": {"needs_context": truth[external[item_id]]}, "time_spent_ms": 1500})
                labelled += 1
            stages["label_s"] = round(time.monotonic() - t, 1)

            # ---- the base model version ----
            base = admin("POST", f"/api/projects/{pid}/model-versions/", json={
                "name": model_dir.name, "base_model": str(model_dir), "backend": "transformers"})

            # ---- snapshot, whole templates held out (a draw that has every label, else the next seed) ----
            t = time.monotonic()
            by_id = {}
            for seed in range(20):
                snap = admin("POST", f"/api/projects/{pid}/snapshots/", json={
                    "name": f"needs context, {a.heldout} templates held out (seed {seed})",
                    "recipe": {"format": "openai", "sources": {"final": {}},
                               "heldout": {"n": a.heldout, "by": "metadata.template"}, "seed": seed}})
                held_labels = Counter(truth[external[i]] for i in snap["heldout_item_ids"])
                if len(held_labels) == 3 and min(held_labels.values()) >= 5:
                    by_id = snap
                    break
            if not by_id:
                raise RuntimeError("no held-out draw had every label")
            stages["snapshot_s"] = round(time.monotonic() - t, 1)
            held_templates = sorted({r["template"] for r in rows
                                     if r["external_id"] in {external[i] for i in snap["heldout_item_ids"]}})

            # ---- training ----
            t = time.monotonic()
            # save_steps beyond the run: the held-out eval loss is taken before and after only (each pass costs
            # minutes on this CPU), and a bench run is not resumed.
            hp = {"r": a.r, "alpha": a.alpha, "dropout": 0.05, "learning_rate": a.lr, "epochs": a.epochs,
                  "batch_size": a.batch, "max_seq_length": a.max_seq, "save_steps": 1000, "seed": 0,
                  "max_steps": a.max_steps}
            run = admin("POST", f"/api/projects/{pid}/training-runs/", json={
                "base_version": base["id"], "snapshot": snap["id"], "hyperparams": hp,
                "heldout_scoring": "likelihood"})
            rid = run["id"]

            def trained():
                r = admin("GET", f"/api/projects/{pid}/training-runs/{rid}/")
                if r["state"] in ("failed", "cancelled"):
                    raise RuntimeError(f"training {r['state']}: {r['error']}")
                return r if r["state"] == "succeeded" else None

            run = wait("training", trained, 3600, worker, 5)
            train_job = admin("GET", f"/api/jobs/{run['job']}/")
            stages["training_s"] = round(time.monotonic() - t, 1)

            # ---- the automatic held-out audit (likelihood) ----
            t = time.monotonic()
            audit_id = wait("held-out audit created", lambda: admin(
                "GET", f"/api/projects/{pid}/training-runs/{rid}/")["heldout_audit"], 120, worker, 1)
            audit = admin("GET", f"/api/audit/runs/{audit_id}/")
            wait("held-out audit", lambda: job_done(admin, audit["job"]), 1800, worker, 3)
            run = admin("GET", f"/api/projects/{pid}/training-runs/{rid}/")
            report = run["heldout_report"]
            stages["heldout_audit_s"] = round(time.monotonic() - t, 1)
            # kept now, so a failure in the later stages still leaves the measured model quality behind
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out + ".partial").write_text(json.dumps(
                {"heldout_report": report, "eval_loss_history": run.get("eval_loss_history"),
                 "stages": stages}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")

            # ---- the automatic generation and blind round new vs parent ----
            t = time.monotonic()
            round_id = run["result_round"]
            wait("round open", lambda: admin("GET", f"/api/projects/{pid}/rounds/{round_id}/")["status"] == "open",
                 3600, worker, 3)
            stages["generation_s"] = round(time.monotonic() - t, 1)

            # ---- a reviewer who knows the truth ----
            t = time.monotonic()
            config = ParserConfig.from_question(needs_q)
            key_truth = {}
            for r in rows:
                key_truth.setdefault((r["text"], tuple(m["text"] for m in r["context"])), set()).add(values[r["label"]])
            judged, prefs, unparsed = 0, Counter(), Counter()
            while True:
                card = reviewer("GET", f"/api/projects/{pid}/review/next/")
                if not card:
                    break
                gold = key_truth[(card["text"], tuple(m["text"] for m in card["context"]))]
                right = {}
                for side in ("left", "right"):
                    value = parse_answer(card[side], config).value
                    unparsed[side] += value is None
                    right[side] = value in gold
                pref = "tie" if right["left"] == right["right"] else ("left" if right["left"] else "right")
                prefs[pref] += 1
                scores = {f"{side}_{d}": 4 if right[side] else 2 for side in ("left", "right")
                          for d in ("helpfulness", "honesty", "harmlessness")}
                reviewer("POST", f"/api/projects/{pid}/review/{card['public_id']}/",
                         json={**scores, "preference": pref})
                judged += 1
            stats = admin("GET", f"/api/projects/{pid}/rounds/{round_id}/stats/")
            stages["review_s"] = round(time.monotonic() - t, 1)
        finally:
            for proc in (worker, gunicorn):
                if proc is not None:
                    proc.stop()
            redis.stop()
    stages["total_s"] = round(time.monotonic() - t_all, 1)

    result = train_job.get("result") or {}
    eval_losses = run.get("eval_loss_history") or []
    out = {
        "settings": {"labels": a.labels, "hyperparams": run["hyperparams"], "heldout_templates": held_templates,
                     "snapshot_seed": snap["recipe"].get("seed"), "train_rows": snap["row_count"],
                     "heldout_items": len(snap["heldout_item_ids"]), "labelled": labelled},
        "heldout_labels": dict(held_labels),
        "base": report and report["base"], "adapter": report and report["new"],
        "baseline": report and report["baseline"], "difference": report and report["difference"],
        "mcnemar": report and report["mcnemar"],
        "win_rate": stats.get("win_rate"), "preferences": stats.get("preferences"), "judged": judged,
        "label_baseline_of_round": stats.get("label_baseline"),
        "eval_loss": {"before": eval_losses[0][1] if eval_losses else None,
                      "after": eval_losses[-1][1] if eval_losses else None, "history": eval_losses},
        "train_loss": {"first": run["loss_history"][0][1] if run["loss_history"] else None,
                       "last": run["loss_history"][-1][1] if run["loss_history"] else None},
        "steps": run["total_steps"], "train_result": {k: result.get(k) for k in
                                                      ("steps", "train_seconds", "truncated", "tokens", "precision")},
        "stages": stages, "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    text = json.dumps(out, ensure_ascii=False, indent=1, default=str)
    print(text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
