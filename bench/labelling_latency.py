"""Work-queue latency and throughput on PostgreSQL with 100k items; prints one JSON object.

    .venv/bin/python bench/labelling_latency.py [--items 100000] [--samples 300] [--seconds 10]

Creates a throwaway database (bench_labelling, dropped at the end), migrates it, loads a project of
`--items` items with the demo schema, then drives the REST API (POST /api/projects/<id>/next/ and
POST /api/items/<id>/annotation/) through Django's in-process test client: the full middleware,
authentication, DRF and ORM stack, but no HTTP socket or WSGI server (add a few hundred microseconds for
gunicorn). Measures:
  - next-item and submit latency p50 / p95 for one annotator;
  - 4 annotators in parallel (4 processes, each its own connection): annotations per second;
  - over-assignment: items with more live claims than the overlap, and duplicate (item, annotator) pairs.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "bench_labelling"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
from bench.common import admin_sql, percentiles  # noqa: E402  (needs ROOT on sys.path)


def _setup_django() -> None:
    os.environ.update(DATABASE_URL=f"{SERVER}/{DB}", FLYWHEEL_DEV="1", ALLOWED_HOSTS="testserver",
                      DJANGO_SETTINGS_MODULE="labelstudio_app.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()


def _load(n_items: int, overlap: int) -> tuple[int, list[int]]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from labelstudio_app.accounts.models import Membership
    from labelstudio_app.demo.seed import LABEL_SCHEMA as DEMO_SCHEMA
    from labelstudio_app.projects.models import Item, Project
    from labelstudio_app.projects.schema import schema_validate

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="bench 基准", overlap=overlap, label_schema=schema_validate(DEMO_SCHEMA))
    context = [{"sender": "张三", "text": "mmpose 很好用", "time": "2024-03-01 09:00:00"}]
    batch = 10_000
    for start in range(0, n_items, batch):
        Item.objects.bulk_create([Item(project=project, text=f"怎么把它部署到 TX2？ #{i}", context=context)
                                  for i in range(start, min(n_items, start + batch))])
    users = []
    for k in range(5):
        user = get_user_model().objects.create(username=f"bench_annotator_{k}")
        Membership.objects.create(user=user, project=project, role="annotator")
        users.append(user.pk)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project.pk, users


def _client(user_id: int):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    return client


VALUES = {"needs_context": "yes", "task_type": "deployment / edge"}


def _one(client, project_id: int, timings: dict | None = None) -> bool:
    t0 = time.perf_counter()
    r = client.post(f"/api/projects/{project_id}/next/", content_type="application/json")
    t1 = time.perf_counter()
    item = r.json()["item"]
    if item is None:
        return False
    r = client.post(f"/api/items/{item['id']}/annotation/", {"values": VALUES, "time_spent_ms": 1000},
                    content_type="application/json")
    t2 = time.perf_counter()
    assert r.status_code == 201, r.content[:300]
    if timings is not None:
        timings["next"].append(t1 - t0)
        timings["submit"].append(t2 - t1)
    return True


def _service_timings(project_id: int, user_id: int, samples: int) -> dict:
    """The same two calls straight through the services (no HTTP stack): where the time goes."""
    from django.contrib.auth import get_user_model

    from labelstudio_app.labelling import services
    from labelstudio_app.projects.models import Project

    user, project = get_user_model().objects.get(pk=user_id), Project.objects.get(pk=project_id)
    nxt, sub = [], []
    for _ in range(samples):
        t0 = time.perf_counter()
        item = services.item_next_for_annotator(project=project, user=user)
        t1 = time.perf_counter()
        if item is None:
            break
        item.project = project
        services.annotation_submit(item=item, user=user, values=VALUES, time_spent_ms=1000)
        t2 = time.perf_counter()
        nxt.append(t1 - t0)
        sub.append(t2 - t1)
    return {"next_item": percentiles(nxt), "submit": percentiles(sub)}


def _worker(project_id: int, user_id: int, seconds: float, start_at: float, out) -> None:
    from django.db import connections

    connections.close_all()
    client = _client(user_id)
    while time.time() < start_at:
        time.sleep(0.001)
    done = 0
    while time.time() < start_at + seconds and _one(client, project_id):
        done += 1
    out.put(done)
    connections.close_all()


def main() -> None:
    warnings.filterwarnings("ignore", message="No directory at")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--overlap", type=int, default=1)
    args = parser.parse_args()

    admin_sql(f"DROP DATABASE IF EXISTS {DB}", base=SERVER)
    admin_sql(f"CREATE DATABASE {DB}", base=SERVER)
    try:
        _setup_django()
        t0 = time.perf_counter()
        project_id, users = _load(args.items, args.overlap)
        load_s = time.perf_counter() - t0
        client = _client(users[0])
        for _ in range(20):  # warm up: imports, URL resolver, connection
            _one(client, project_id)
        timings = {"next": [], "submit": []}
        for _ in range(args.samples):
            _one(client, project_id, timings)
        service = _service_timings(project_id, users[0], args.samples)

        from django.db import connections

        connections.close_all()
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        start_at = time.time() + 1.0
        procs = [ctx.Process(target=_worker, args=(project_id, uid, args.seconds, start_at, out))
                 for uid in users[1:1 + args.parallel]]
        for p in procs:
            p.start()
        counts = [out.get() for _ in procs]
        for p in procs:
            p.join()

        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("""SELECT count(*) FROM (SELECT item_id FROM labelling_assignment
                              WHERE state = 'submitted' OR (state = 'leased' AND leased_until > now())
                              GROUP BY item_id HAVING count(*) > %s) x""", [args.overlap])
            over = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) - count(DISTINCT (item_id, annotator_id)) FROM labelling_annotation")
            duplicates = cursor.fetchone()[0]
        connections.close_all()
        print(json.dumps({
            "items": args.items, "overlap": args.overlap, "database": "postgresql",
            "transport": "in-process Django test client (full middleware/DRF/ORM stack, no socket)",
            "load_seconds": round(load_s, 1),
            "next_item": percentiles(timings["next"]), "submit": percentiles(timings["submit"]),
            "service_only": service,
            "parallel": {"annotators": len(procs), "seconds": args.seconds, "annotations": sum(counts),
                         "annotations_per_s": round(sum(counts) / args.seconds, 1)},
            "over_assigned_items": over, "duplicate_annotations": duplicates,
            "cpu_count": os.cpu_count(),
        }, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", base=SERVER)


if __name__ == "__main__":
    main()
