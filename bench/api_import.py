"""Bulk import over real HTTP: gunicorn + PostgreSQL + a Celery worker, batches posted one after another.

    .venv/bin/python bench/api_import.py [--sizes 10000 100000 [1000000]] [--batch 1000] [--workers 2] [--threads 1]
                                         [--endpoint bulk|file] [--database bench_api_import] [--port N]
                                         [--redis-port N]

Creates the throwaway database `--database` on the shared PostgreSQL (dropped at the end), a private Redis (the
broker and the throttle cache, as deployed), gunicorn (`--workers` sync processes by default; `--threads` > 1
makes them gthread) and one Celery worker, all on 127.0.0.1. For each size, a new project, then the client
posts `POST /api/projects/<id>/imports/bulk/` with a JSONL body of `--batch` items and an `Idempotency-Key`,
opening a NEW connection for every request (as many scripts and proxies do) and waiting for each answer (201:
stored and committed) before the next. Items: a chat prompt of 100-400 characters with two model answers of
300-1,500 characters each kept on the item (`answers` -> metadata), about 45% Chinese, 45% English, 10% mixed.
The bodies are generated before each request and outside its timing; a few small warm-up batches (to another
project) go first, so no timed request pays a gunicorn worker's first imports.

`--endpoint file` drives the file import the same way instead (multipart upload of the same JSONL, then the job
polled every 20 ms until it has succeeded, each poll on a new connection), the path clients had before.

Prints JSON (and writes it to --out): per size, items/s over the requests' time (connect -> answer read) and
over the wall time, per-batch p50/p95, items/s of the first and last tenth of the batches (flat or not), the
server's CPU seconds and peak RSS (gunicorn master + workers, from /proc), the load average before and after,
and the check that the project holds exactly the items sent, once each. PostgreSQL's own CPU is not counted.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    CeleryWorker,
    Gunicorn,
    PrivateRedis,
    child_env,
    django_setup,
    free_port,
    percentiles,
    throwaway_database,
)

ZH = ("我们的模型在验证集上的准确率一直上不去，是不是学习率设置得太高了？另外数据里有不少重复样本，"
      "需要先去重吗？部署到边缘设备的时候，显存不够怎么办，能不能用量化或者蒸馏的方法来压缩模型？"
      "训练日志显示损失在第三个轮次之后就不再下降了，我怀疑是过拟合，应该加大正则化还是提前停止？")
EN = ("Our model's accuracy on the validation set has plateaued, and I suspect the learning rate is too high. "
      "There are also many duplicated samples in the data; should we deduplicate first? When deploying to an "
      "edge device the memory runs out: can quantisation or distillation shrink the model enough to fit? ")
MIXED = ("用 LoRA 微调 SmolLM2 的时候 loss 不降，batch size 设成 8，lr 是 2e-4，warmup 100 steps，"
         "gradient checkpointing 开着，是不是 max_seq_length 太长了？TensorRT 导出 ONNX 也报错 opset 17。")


def _text(rng: random.Random, lo: int, hi: int, pool: str) -> str:
    n = rng.randint(lo, hi)
    start = rng.randrange(len(pool))
    reps = (start + n) // len(pool) + 1
    return (pool * reps)[start:start + n]


def _item(rng: random.Random, i: int) -> dict:
    kind = rng.random()
    pool = ZH if kind < 0.45 else EN if kind < 0.9 else MIXED
    prompt = f"#{i} " + _text(rng, 100, 400, pool)
    return {"id": f"b{i}", "text": prompt, "task_type": "chat",
            "answers": [{"model": "base", "text": _text(rng, 300, 1500, pool)},
                        {"model": "lora-1", "text": _text(rng, 300, 1500, pool)}]}


def _body(rng: random.Random, start: int, n: int) -> bytes:
    return "".join(json.dumps(_item(rng, i), ensure_ascii=False) + "\n" for i in range(start, start + n)).encode()


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)  # a new connection per request
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _multipart(body: bytes) -> tuple[bytes, str]:
    boundary = f"bench{random.getrandbits(64):x}"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\nauto\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="batch.jsonl"\r\n'
            "Content-Type: application/x-ndjson\r\n\r\n").encode()
    return head + body + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _send(port: int, project_id: int, token: str, body: bytes, key: str, endpoint: str) -> tuple[bool, str]:
    """One batch through `endpoint`; True once it is stored. `file`: the file import (multipart upload, then
    the job polled every 20 ms, each poll on a new connection too), the way a client had to before `bulk`."""
    auth = {"Authorization": f"Token {token}"}
    if endpoint == "bulk":
        code, answer = _post(port, f"/api/projects/{project_id}/imports/bulk/", body,
                             {**auth, "Content-Type": "application/x-ndjson", "Idempotency-Key": key})
        return code == 201 and json.loads(answer).get("stored") is not None, f"{code} {answer[:300]!r}"
    data, content_type = _multipart(body)
    code, answer = _post(port, f"/api/projects/{project_id}/imports/", data, {**auth, "Content-Type": content_type})
    if code != 202:
        return False, f"{code} {answer[:300]!r}"
    job_id = json.loads(answer)["id"]
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("GET", f"/api/jobs/{job_id}/", headers=auth)
            job = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job["state"] == "succeeded", f"job {job_id} {job['state']}: {job.get('error', '')[:300]}"
        time.sleep(0.02)


def _proc_stats(root_pid: int) -> dict:
    """CPU seconds and peak RSS of a process and its children (gunicorn's master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [root_pid] + [int(p) for p in Path(f"/proc/{root_pid}/task/{root_pid}/children").read_text().split()]
    cpu, peaks = 0.0, []
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) / 1024)
        except (FileNotFoundError, StopIteration):
            continue
    return {"cpu_s": cpu, "peak_rss_mb_max": max(peaks, default=0), "peak_rss_mb_sum": sum(peaks), "pids": len(pids)}


def run_size(*, port: int, token: str, project_id: int, n: int, batch: int, server_pid: int, seed: int,
             endpoint: str) -> dict:
    from labelstudio_app.projects.models import Item

    rng = random.Random(seed)
    load_before = os.getloadavg()
    cpu_before = _proc_stats(server_pid)["cpu_s"]
    per_batch, failures, body_bytes = [], [], 0
    wall0 = time.perf_counter()
    for start in range(0, n, batch):
        size = min(batch, n - start)
        body = _body(rng, start, size)
        body_bytes += len(body)
        t0 = time.perf_counter()
        ok, what = _send(port, project_id, token, body, f"bench-{project_id}-{start}", endpoint)
        per_batch.append((time.perf_counter() - t0, size))
        if not ok:
            failures.append(f"batch at {start}: {what}")
            if len(failures) > 5:
                break
    wall = time.perf_counter() - wall0
    stats = _proc_stats(server_pid)
    request_s = sum(s for s, _ in per_batch)
    tenth = max(1, len(per_batch) // 10)
    stored = Item.objects.filter(project_id=project_id).count()
    distinct = Item.objects.filter(project_id=project_id).values("external_id").distinct().count()

    def rate(rows):
        return round(sum(k for _, k in rows) / sum(s for s, _ in rows)) if rows else None

    return {
        "items": n, "batch": batch, "requests": len(per_batch), "mb_sent": round(body_bytes / 1e6, 1),
        "items_per_s": rate(per_batch), "items_per_s_wall": round(n / wall), "request_seconds": round(request_s, 2),
        "wall_seconds": round(wall, 2), "batch_latency": percentiles([s for s, _ in per_batch]),
        "items_per_s_first_tenth": rate(per_batch[:tenth]), "items_per_s_last_tenth": rate(per_batch[-tenth:]),
        "server_cpu_s": round(stats["cpu_s"] - cpu_before, 2), "server_peak_rss_mb_max": round(stats["peak_rss_mb_max"]),
        "server_peak_rss_mb_sum": round(stats["peak_rss_mb_sum"]), "server_processes": stats["pids"],
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        "stored": stored, "stored_once": stored == n == distinct, "failures": failures,
    }


def _warm_up(*, port: int, token: str, project_id: int, workers: int) -> None:
    """A few small batches first, so that no timed request pays a gunicorn worker's first imports."""
    rng = random.Random(99)
    for i in range(4 * workers):
        code, answer = _post(port, f"/api/projects/{project_id}/imports/bulk/", _body(rng, i * 10, 10),
                             {"Authorization": f"Token {token}", "Content-Type": "application/x-ndjson"})
        assert code == 201, answer[:300]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="items per run (1000000 too)")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--endpoint", choices=("bulk", "file"), default="bulk",
                   help="bulk: POST imports/bulk/; file: the file import + job polling, for comparison")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (the issue's measurement: 2)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker; 1 = sync workers")
    p.add_argument("--database", default="bench_api_import")
    p.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    p.add_argument("--redis-port", type=int, default=0, help="the private Redis's port (default: a free one)")
    p.add_argument("--out", type=Path, default=RESULTS / "api_import.json")
    args = p.parse_args(argv)
    assert all(1 <= n <= 2_000_000 for n in args.sizes) and 1 <= args.batch <= 100_000

    RESULTS.mkdir(parents=True, exist_ok=True)
    redis = PrivateRedis(RESULTS, port=args.redis_port or free_port()).start()
    server = worker = None
    try:
        with throwaway_database(args.database) as database_url:
            django_setup(database_url=database_url, redis_url=redis.url)
            from django.contrib.auth import get_user_model
            from django.db import connections
            from rest_framework.authtoken.models import Token

            from labelstudio_app.projects import services

            admin = get_user_model().objects.create_user("bench_admin", password="bench-password-1", is_staff=True)
            token = Token.objects.create(user=admin).key
            projects = [services.project_create(user=admin, name=f"批量导入 bulk {n}") for n in args.sizes]
            warm = services.project_create(user=admin, name="warm-up")
            connections.close_all()
            env = child_env(DATABASE_URL=database_url, REDIS_URL=redis.url, LOG_LEVEL="WARNING")
            worker = CeleryWorker(RESULTS, env=env, queues="default").start(timeout=300)  # slow on a busy machine
            server = Gunicorn(RESULTS, env=env, workers=args.workers, threads=args.threads, timeout=120,
                              port=args.port or None).start()
            _warm_up(port=server.port, token=token, project_id=warm.pk, workers=args.workers)
            runs = [run_size(port=server.port, token=token, project_id=project.pk, n=n, batch=args.batch,
                             server_pid=server.proc.pid, seed=i, endpoint=args.endpoint)
                    for i, (n, project) in enumerate(zip(args.sizes, projects, strict=True))]
            connections.close_all()
    finally:
        for proc in (server, worker, redis):
            if proc is not None:
                proc.stop()
    endpoint = {"bulk": "POST /api/projects/{id}/imports/bulk/ (JSONL)",
                "file": "POST /api/projects/{id}/imports/ (multipart JSONL) + GET /api/jobs/{id}/ every 20 ms"}
    out = {"bench": "api_import", "endpoint": endpoint[args.endpoint],
           "gunicorn": {"workers": args.workers, "threads": args.threads,
                        "worker_class": "gthread" if args.threads > 1 else "sync"},
           "cpus": os.cpu_count(), "target_items_per_s": 20_000, "runs": runs}
    text = json.dumps(out, indent=1, ensure_ascii=False)
    args.out.write_text(text + "\n")
    print(text)
    return 0 if all(r["stored_once"] and not r["failures"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
