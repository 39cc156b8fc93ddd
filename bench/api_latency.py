"""Hot-endpoint latency over real HTTP (gunicorn + PostgreSQL): next item, submit, item list pages, and 4
annotators in parallel; prints one JSON object (and writes it to bench/results/api_latency.json).

    .venv/bin/python bench/api_latency.py [--sizes 10000,100000[,1000000]] [--seconds 60] [--samples 300]
                                          [--configs gthread:2x4] [--port 18930]

For each size: a throwaway database `bench_wt_lists_api` (dropped at the end), migrated, a project seeded with
COPY (a chat prompt of 100-400 characters and two model answers of 300-1,500 characters kept on the item; 45%
Chinese, 45% English, 10% mixed), a manager and five annotators with API tokens. Then for each gunicorn
configuration (`sync:W` = W sync workers, `gthread:WxT` = W workers of T threads):
  - one annotator: `--samples` rounds of POST next + POST submit (p50 / p95 of each);
  - the manager: GET one page of 100 items (30 times each) at the first page, half way and at the last page
    (keyset cursor), newest first, the first page of a CJK and an English search, a status filter's last page;
  - 4 annotator processes in parallel, next + submit in a loop for `--seconds`: annotations/s, then the items
    with more live claims than the overlap (must be 0);
  - the server's peak RSS (master + workers, sampled every 0.2 s), its CPU seconds, the load average.
Every request opens a new TCP connection (http.client, `Connection: close`), as many scripts and proxies do.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402  (needs ROOT on sys.path)
    PY,
    RESULTS,
    Process,
    child_env,
    django_setup,
    percentiles,
    throwaway_database,
    wait_port,
)

DB = "bench_wt_lists_api"
VALUES = {"needs_context": "yes", "task_type": "deployment / edge"}
ZH = "怎么把模型部署到边缘设备上呢显存不够的时候应该先量化还是先剪枝训练数据要不要清洗一下再微调"
EN = ("how do I deploy the model on an edge device when memory is short should I quantize first or prune "
      "and do I need to clean the training data before fine tuning it again ")


# ---- the server ------------------------------------------------------------------------------------------

class Server(Process):
    """gunicorn as the docs deploy it, in one of the measured worker models."""

    name = "gunicorn"

    def __init__(self, log_dir: Path, *, env: dict, config: str, port: int):
        super().__init__(log_dir)
        self.env, self.config, self.port = env, config, port
        kind, _, size = config.partition(":")
        workers, _, threads = size.partition("x")
        self.argv = ["-k", kind, "-w", workers] + (["--threads", threads] if kind == "gthread" else [])

    def start(self) -> Server:
        self._spawn([PY, "-m", "gunicorn", "labelstudio_app.wsgi:application", "-b", f"127.0.0.1:{self.port}",
                     *self.argv, "--timeout", "60", "--graceful-timeout", "3", "--backlog", "512"], self.env)
        wait_port(self.port, 60, self.proc, "gunicorn")
        return self

    def pids(self) -> list[int]:
        """The master and its workers."""
        kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [self.proc.pid, *map(int, kids)]


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _cpu_s(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / ticks


class RssSampler(threading.Thread):
    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.peak_mb, self.stop = server, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, _rss_mb(self.server.pids()))


# ---- the client ------------------------------------------------------------------------------------------

def call(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    """One request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)  # a starved CPU is slow, not broken
    headers = {"Authorization": f"Token {token}", "Connection": "close", "Accept": "application/json"}
    data = None
    if body is not None or method == "POST":
        data = json.dumps(body or {}).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        payload = r.read()
    finally:
        conn.close()
    return r.status, (json.loads(payload) if payload else {})


def label_one(port: int, project_id: int, token: str, timings: dict | None = None) -> bool:
    t0 = time.perf_counter()
    status, out = call(port, "POST", f"/api/projects/{project_id}/next/", token)
    t1 = time.perf_counter()
    assert status == 200, (status, out)
    if out["item"] is None:
        return False
    status, out = call(port, "POST", f"/api/items/{out['item']['id']}/annotation/", token,
                       {"values": VALUES, "time_spent_ms": 1000})
    t2 = time.perf_counter()
    assert status == 201, (status, out)
    if timings is not None:
        timings["next"].append(t1 - t0)
        timings["submit"].append(t2 - t1)
    return True


def _annotator(port: int, project_id: int, token: str, seconds: float, start_at: float, out) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
    done = 0
    while time.time() < start_at + seconds and label_one(port, project_id, token):
        done += 1
    out.put(done)


# ---- data ------------------------------------------------------------------------------------------------

def _text(rng: random.Random, lo: int, hi: int) -> str:
    n, kind = rng.randint(lo, hi), rng.random()
    if kind < 0.45:
        src = ZH
    elif kind < 0.90:
        src = EN
    else:
        src = ZH[:20] + " " + EN[:60] + " "
    start = rng.randrange(len(src))
    return ((src[start:] + src) * (n // len(src) + 2))[:n]


def seed(*, items: int) -> dict:
    """One project of `items` items written with COPY, a manager and five annotators with tokens."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from labelstudio_app.accounts.models import Membership
    from labelstudio_app.demo.seed import LABEL_SCHEMA
    from labelstudio_app.projects.models import Item, Project
    from labelstudio_app.projects.schema import schema_validate

    User = get_user_model()
    project = Project.objects.create(name="api latency 基准", overlap=1, label_schema=schema_validate(LABEL_SCHEMA))
    rng, now = random.Random(16), timezone.now()
    context = json.dumps([{"sender": "张三", "text": "mmpose 支持 TX2 吗", "time": "2024-03-01 09:00:00"}],
                         ensure_ascii=False)
    t0 = time.perf_counter()
    columns = ("project_id", "external_id", "text", "context", "task_type", "reference_answer", "metadata",
               "status", "is_gold", "created_at")
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
                f"COPY {Item._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(items):
                answers = [_text(rng, 300, 1500), _text(rng, 300, 1500)]
                copy.write_row((project.pk, f"q{i}", f"{_text(rng, 100, 400)} #{i}", context, "deployment / edge",
                                "", json.dumps({"answers": answers}, ensure_ascii=False), "open", False, now))
        cursor.execute("ANALYZE")
    seed_s = time.perf_counter() - t0
    tokens = {}
    for name, role in [("manager", "manager")] + [(f"annotator_{k}", "annotator") for k in range(5)]:
        user = User.objects.create_user(f"bench_api_{name}", password="bench-password-1")
        Membership.objects.create(user=user, project=project, role=role)
        tokens[name] = Token.objects.create(user=user).key
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True)[::max(1, items // 100)])
    return {"project_id": project.pk, "tokens": tokens, "seed_seconds": round(seed_s, 1),
            "deep_after": {"first": None, "middle": ids[len(ids) // 2], "last": ids[-1]}}


def over_assigned(overlap: int = 1) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""SELECT count(*) FROM (SELECT item_id FROM labelling_assignment
                          WHERE state = 'submitted' OR (state = 'leased' AND leased_until > now())
                          GROUP BY item_id HAVING count(*) > %s) x""", [overlap])
        return cursor.fetchone()[0]


# ---- one measurement -------------------------------------------------------------------------------------

def measure(*, port: int, data: dict, samples: int, seconds: float, annotators: int) -> dict:
    pid, tok = data["project_id"], data["tokens"]
    for _ in range(20):  # warm every worker: imports, URL resolver, DB connections
        label_one(port, pid, tok["annotator_0"])
        call(port, "GET", f"/api/projects/{pid}/items/?limit=100", tok["manager"])
    timings = {"next": [], "submit": []}
    for _ in range(samples):
        label_one(port, pid, tok["annotator_0"], timings)

    pages = {}
    queries = {f"page_{where}": f"limit=100&after={after}" if after else "limit=100"
               for where, after in data["deep_after"].items()}
    queries["page_last_newest_first"] = "limit=100&sort=-id&after=200"
    queries["search_cjk_first_page"] = "limit=100&q=" + quote("显存")
    queries["search_en_first_page"] = "limit=100&q=quantize"
    queries["status_open_deep_page"] = f"limit=100&status=open&after={data['deep_after']['last']}"
    for name, query in queries.items():
        got = []
        for _ in range(30):
            t0 = time.perf_counter()
            status, out = call(port, "GET", f"/api/projects/{pid}/items/?{query}",
                               tok["manager"])
            got.append(time.perf_counter() - t0)
            assert status == 200, (status, out)
        pages[name] = {**percentiles(got), "rows": len(out["results"])}

    ctx = mp.get_context("fork")
    out_q = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [ctx.Process(target=_annotator, args=(port, pid, tok[f"annotator_{k + 1}"], seconds, start_at, out_q))
             for k in range(annotators)]
    for p in procs:
        p.start()
    counts = [out_q.get() for _ in procs]
    for p in procs:
        p.join()
    return {"next_item": percentiles(timings["next"]), "submit": percentiles(timings["submit"]),
            "item_list": pages,
            "parallel": {"annotators": annotators, "seconds": seconds, "annotations": sum(counts),
                         "annotations_per_s": round(sum(counts) / seconds, 1)},
            "over_assigned_items": over_assigned()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000", help="comma-separated item counts (1000000 optional)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the 4-annotator run")
    p.add_argument("--samples", type=int, default=300, help="sequential next + submit rounds")
    p.add_argument("--annotators", type=int, default=4)
    p.add_argument("--configs", default="gthread:2x4",
                   help="gunicorn worker models, comma-separated: sync:W or gthread:WxT")
    p.add_argument("--port", type=int, default=18930)
    p.add_argument("--db", default=DB, help="the throwaway database's name (bench_* only)")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    p.add_argument("--out", default=str(RESULTS / "api_latency.json"))
    args = p.parse_args()

    runs = []
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for size in [int(s) for s in args.sizes.split(",")]:
        with throwaway_database(args.db) as url:
            django_setup(database_url=url, redis_url=args.redis_url)
            data = seed(items=size)
            from django.db import connections

            connections.close_all()
            for config in args.configs.split(","):
                env = child_env(DATABASE_URL=url, REDIS_URL=args.redis_url, LOG_LEVEL="WARNING",
                                FLYWHEEL_API_WRITE_RATE="1000000/min", FLYWHEEL_DATA_DIR=os.environ["FLYWHEEL_DATA_DIR"])
                server = Server(log_dir, env=env, config=config, port=args.port).start()
                sampler = RssSampler(server)
                sampler.start()
                load_before = os.getloadavg()
                try:
                    result = measure(port=args.port, data=data, samples=args.samples, seconds=args.seconds,
                                     annotators=args.annotators)
                    cpu = _cpu_s(server.pids())
                finally:
                    sampler.stop.set()
                    server.stop()
                runs.append({"items": size, "gunicorn": config, "seed_seconds": data["seed_seconds"], **result,
                             "server_peak_rss_mb": round(sampler.peak_mb, 1), "server_cpu_seconds": round(cpu, 1),
                             "load_average_before": [round(x, 2) for x in load_before],
                             "load_average_after": [round(x, 2) for x in os.getloadavg()]})
                print(json.dumps(runs[-1]), file=sys.stderr)
            connections.close_all()
    report = {"transport": "HTTP/1.1, a new TCP connection per request (http.client)", "cpu_count": os.cpu_count(),
              "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
