"""Load: N annotators and M reviewers hammer the labelling and review REST APIs under gunicorn + PostgreSQL.

    .venv/bin/python bench/load.py [--seconds 60] [--annotators 50] [--reviewers 10] [--items 3000]
                                   [--workers 3] [--threads 4] [--think-ms 0] [--out bench/results/load.json]

Creates the throwaway database `bench_load` on the shared PostgreSQL (127.0.0.1:5432), migrates it, seeds a
project (items, users with API tokens, an open comparison round built by the review services), starts
gunicorn on 127.0.0.1, and runs the users as asyncio tasks with httpx for `--seconds`. Every successful
submit is logged by the client; afterwards the database is checked against that log:

- every logged annotation / judgment is stored exactly once, and nothing is stored that was not logged;
- no item has more annotations or live leases than the project's overlap; no comparison more judgments
  than the round's overlap, and each comparison's `judgments_count` equals its real number of judgments.

Prints one JSON object (requests/s and p50/p95/p99 per endpoint, totals, the checks) and writes it to --out.
Exit status 1 when a check fails. Only 127.0.0.1; bounded in users, items and time.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    Gunicorn,
    child_env,
    django_setup,
    percentiles,
    seed_project,
    throwaway_database,
)


class Stats:
    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[str] = []
        self.stuck: list[dict] = []

    def record(self, endpoint: str, started: float, status: int | str) -> None:
        self.latency[endpoint].append(time.monotonic() - started)
        self.status[endpoint][str(status)] += 1


async def _call(client, stats: Stats, endpoint: str, method: str, url: str, **kwargs):
    started = time.monotonic()
    try:
        r = await client.request(method, url, **kwargs)
    except Exception as exc:
        stats.record(endpoint, started, type(exc).__name__)
        if len(stats.errors) < 20:
            stats.errors.append(f"{endpoint}: {type(exc).__name__}: {exc}")
        return None
    stats.record(endpoint, started, r.status_code)
    if r.status_code >= 500 and len(stats.errors) < 20:
        stats.errors.append(f"{endpoint}: {r.status_code}: {r.text[:200]}")
    return r


async def annotator(client, user: dict, project_id: int, deadline: float, stats: Stats, log: list, think: float,
                    rng: random.Random) -> None:
    headers = {"Authorization": f"Token {user['token']}"}
    while time.monotonic() < deadline:
        r = await _call(client, stats, "POST /api/projects/{id}/next/", "POST", f"/api/projects/{project_id}/next/",
                        headers=headers, json={})
        if r is None or r.status_code != 200:
            await asyncio.sleep(0.2)
            continue
        item = r.json()["item"]
        if item is None:
            return  # nothing left for this annotator
        if think:
            await asyncio.sleep(think * rng.random() * 2)
        values = {"needs_context": rng.choice(["yes", "no", "not_question"])}
        r = await _call(client, stats, "POST /api/items/{id}/annotation/", "POST", f"/api/items/{item['id']}/annotation/",
                        headers=headers, json={"values": values, "time_spent_ms": rng.randint(500, 9000)})
        if r is not None and r.status_code == 201:
            log.append({"kind": "annotation", "user": user["username"], "item": item["id"], "values": values})


async def reviewer(client, user: dict, project_id: int, deadline: float, stats: Stats, log: list, think: float,
                   rng: random.Random) -> None:
    headers = {"Authorization": f"Token {user['token']}"}
    refused = 0
    while time.monotonic() < deadline:
        r = await _call(client, stats, "GET /api/projects/{id}/review/next/", "GET",
                        f"/api/projects/{project_id}/review/next/", headers=headers)
        if r is None or r.status_code not in (200, 204):
            await asyncio.sleep(0.2)
            continue
        if r.status_code == 204:
            return
        card = r.json()
        if think:
            await asyncio.sleep(think * rng.random() * 2)
        scores = {f"{side}_{dim}": rng.randint(1, 5) for side in ("left", "right")
                  for dim in ("helpfulness", "honesty", "harmlessness")}
        body = {**scores, "preference": rng.choice(["left", "right", "tie", "both_bad"]), "comment": "负载测试"}
        r = await _call(client, stats, "POST /api/projects/{id}/review/{public_id}/", "POST",
                        f"/api/projects/{project_id}/review/{card['public_id']}/", headers=headers, json=body)
        refused = refused + 1 if r is not None and r.status_code == 409 else 0
        if refused >= 5:  # handed the same refused comparison again and again: a queue livelock
            stats.stuck.append({"user": user["username"], "public_id": card["public_id"], "detail": r.text[:200]})
            return
        if r is not None and r.status_code == 201:
            log.append({"kind": "judgment", "user": user["username"], "public_id": card["public_id"]})


async def drive(base_url: str, seed: dict, args) -> tuple[Stats, list, float]:
    import httpx

    stats, log = Stats(), []
    limits = httpx.Limits(max_connections=args.annotators + args.reviewers + 5, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(30.0)) as client:
        started = time.monotonic()
        deadline = started + args.seconds
        rng = random.Random(args.seed)
        tasks = [annotator(client, u, seed["project_id"], deadline, stats, log, args.think_ms / 1000,
                           random.Random(rng.random())) for u in seed["users"]["annotator"]]
        tasks += [reviewer(client, u, seed["project_id"], deadline, stats, log, args.think_ms / 1000,
                           random.Random(rng.random())) for u in seed["users"]["reviewer"]]
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    return stats, log, elapsed


def verify(seed: dict, log: list) -> dict:
    """The database against the client's log."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from labelstudio_app.labelling.models import Annotation, Assignment
    from labelstudio_app.review.models import Comparison, Judgment

    project_id = seed["project_id"]
    logged_a = [(e["user"], e["item"]) for e in log if e["kind"] == "annotation"]
    stored_a = list(Annotation.objects.filter(item__project_id=project_id)
                    .values_list("annotator__username", "item_id"))
    logged_j = [(e["user"], e["public_id"]) for e in log if e["kind"] == "judgment"]
    stored_j = list(Judgment.objects.filter(comparison__round_id=seed["round_id"])
                    .values_list("reviewer__username", "comparison__public_id"))
    values_by_pair = {(e["user"], e["item"]): e["values"] for e in log if e["kind"] == "annotation"}
    stored_values = {(u, i): v for u, i, v in Annotation.objects.filter(item__project_id=project_id)
                     .values_list("annotator__username", "item_id", "values")}
    wrong_values = sum(1 for k, v in values_by_pair.items() if stored_values.get(k) != v)

    per_item = Annotation.objects.filter(item__project_id=project_id).values("item_id").annotate(n=Count("id"))
    over_annotated = sum(1 for row in per_item if row["n"] > seed["overlap"])
    live = (Assignment.objects.filter(project_id=project_id)
            .filter(Q(state="submitted") | Q(state="leased", leased_until__gt=timezone.now()))
            .values("item_id").annotate(n=Count("id")))
    over_assigned = sum(1 for row in live if row["n"] > seed["overlap"])
    per_cmp = (Comparison.objects.filter(round_id=seed["round_id"])
               .annotate(n=Count("judgments")).values_list("n", "judgments_count"))
    over_judged = sum(1 for n, _ in per_cmp if n > seed["review_overlap"])
    counter_drift = sum(1 for n, counted in per_cmp if n != counted)
    checks = {
        "annotations_logged": len(logged_a),
        "annotations_stored": len(stored_a),
        "annotations_logged_twice": len(logged_a) - len(set(logged_a)),
        "annotations_missing": len(set(logged_a) - set(stored_a)),
        "annotations_unlogged": len(set(stored_a) - set(logged_a)),
        "annotations_with_other_values": wrong_values,
        "judgments_logged": len(logged_j),
        "judgments_stored": len(stored_j),
        "judgments_logged_twice": len(logged_j) - len(set(logged_j)),
        "judgments_missing": len(set(logged_j) - set(stored_j)),
        "judgments_unlogged": len(set(stored_j) - set(logged_j)),
        "items_over_annotated": over_annotated,
        "items_over_assigned": over_assigned,
        "comparisons_over_judged": over_judged,
        "comparisons_with_wrong_judgments_count": counter_drift,
    }
    bad = {k: v for k, v in checks.items() if not k.endswith(("_logged", "_stored")) and v}
    if len(stored_a) != len(logged_a):
        bad["annotations_stored_vs_logged"] = len(stored_a) - len(logged_a)
    if len(stored_j) != len(logged_j):
        bad["judgments_stored_vs_logged"] = len(stored_j) - len(logged_j)
    checks["ok"] = not bad
    checks["failed"] = bad
    return checks


def report(stats: Stats, elapsed: float) -> dict:
    endpoints = {}
    for endpoint, samples in sorted(stats.latency.items()):
        codes = dict(stats.status[endpoint])
        endpoints[endpoint] = {"requests": len(samples), "rps": round(len(samples) / elapsed, 1), "status": codes,
                               **percentiles(samples)}
    total = sum(len(s) for s in stats.latency.values())
    return {"requests": total, "rps": round(total / elapsed, 1), "endpoints": endpoints, "errors": stats.errors,
            "reviewers_stuck": stats.stuck}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--annotators", type=int, default=50)
    p.add_argument("--reviewers", type=int, default=10)
    p.add_argument("--items", type=int, default=3000, help="items to label (overlap 2)")
    p.add_argument("--review-items", type=int, default=1500, help="comparisons in the open round")
    p.add_argument("--overlap", type=int, default=2)
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    p.add_argument("--think-ms", type=float, default=0, help="mean pause between fetching and submitting")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--database", default="bench_load")
    p.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = p.parse_args(argv)
    assert args.seconds <= 600 and args.annotators <= 500 and args.reviewers <= 200 and args.items <= 200_000

    RESULTS.mkdir(parents=True, exist_ok=True)
    with throwaway_database(args.database) as database_url:
        t0 = time.monotonic()
        django_setup(database_url=database_url)
        seed = seed_project(items=args.items, annotators=args.annotators, reviewers=args.reviewers,
                            overlap=args.overlap, review_items=args.review_items)
        setup_s = time.monotonic() - t0
        from django.db import connections

        connections.close_all()
        server = Gunicorn(RESULTS, env=child_env(DATABASE_URL=database_url), workers=args.workers,
                          threads=args.threads).start()
        try:
            stats, log, elapsed = asyncio.run(drive(server.url, seed, args))
        finally:
            server.stop()
        (RESULTS / "load-client-log.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in log))
        checks = verify(seed, log)
        connections.close_all()
    out = {
        "bench": "load",
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "setup_seconds": round(setup_s, 1),
        "run_seconds": round(elapsed, 1),
        "comparisons_in_round": seed["comparisons"],
        **report(stats, elapsed),
        "annotations_per_s": round(checks["annotations_logged"] / elapsed, 1),
        "judgments_per_s": round(checks["judgments_logged"] / elapsed, 1),
        "checks": checks,
    }
    text = json.dumps(out, indent=2, ensure_ascii=False)
    args.out.write_text(text + "\n")
    print(text)
    return 0 if checks["ok"] and not stats.stuck else 1


if __name__ == "__main__":
    raise SystemExit(main())
