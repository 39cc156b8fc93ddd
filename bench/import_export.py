"""Import and export throughput on PostgreSQL; prints JSON.

    .venv/bin/python bench/import_export.py                 # 10k + 100k JSONL, 200k-message chat log, export 100k
    .venv/bin/python bench/import_export.py --sizes 10000 100000 1000000

Creates a throwaway database (bench_import_export, dropped at the end; never `test`), migrates it, and runs
the real import job handler (`workers.tasks.run_job` in this process: claim, two-pass parse, COPY in one
transaction, finish) on generated files, then the real export code (`export_chunks`) over 100k labelled
items: wall time, rows/s, and tracemalloc peak (measured in a second pass, as tracemalloc slows Python).
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "bench_import_export"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
from bench.common import admin_sql  # noqa: E402  (needs ROOT on sys.path)


def _setup_django(data_dir: str) -> None:
    os.environ.update(DATABASE_URL=f"{SERVER}/{DB}", FLYWHEEL_DEV="1", DJANGO_SETTINGS_MODULE="labelstudio_app.settings",
                      LOG_LEVEL="WARNING", FLYWHEEL_DATA_DIR=data_dir, CELERY_BROKER_URL="memory://")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _jsonl(path: Path, n: int) -> Path:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "text": f"第 {i} 个问题：mmpose 怎么部署到 TX2？{rng.random()}",
                                "task_type": "deployment / edge",
                                "context": [{"sender": "张三", "text": "这个模型支持吗", "time": "2024-03-01 09:00:00"}]},
                               ensure_ascii=False) + "\n")
    return path


def _import(path: Path, fmt: str) -> dict:
    from labelstudio_app.jobs.models import Job
    from labelstudio_app.projects.models import Item, Project
    from workers.tasks import run_job

    project = Project.objects.create(name=f"bench {path.name}")
    job = Job.objects.create(kind="import", project=project, params={"path": str(path), "filename": path.name,
                                                                      "format": fmt, "options": {}})
    size = path.stat().st_size
    t0 = time.perf_counter()
    run_job(job.pk)
    seconds = time.perf_counter() - t0
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    n = Item.objects.filter(project=project).count()
    return {"file": path.name, "mb": round(size / 1e6, 1), "items": n, "seconds": round(seconds, 2),
            "items_per_s": round(n / seconds), "dropped": job.result.get("dropped", {})}


def _export(project, fmt: str) -> dict:
    from labelstudio_app.projects.exports import export_chunks

    t0 = time.perf_counter()
    size = sum(len(c) for c in export_chunks(project=project, fmt=fmt))
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    for _ in export_chunks(project=project, fmt=fmt):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows = project.items.exclude(final_values=None).count()
    return {"format": fmt, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
            "mb_out": round(size / 1e6, 1), "tracemalloc_peak_mb": round(peak / 1e6, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="JSONL item counts")
    ap.add_argument("--chat-messages", type=int, default=200_000)
    ap.add_argument("--export-items", type=int, default=100_000)
    a = ap.parse_args()
    admin_sql(f"DROP DATABASE IF EXISTS {DB}", base=SERVER)
    admin_sql(f"CREATE DATABASE {DB}", base=SERVER)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _setup_django(tmp)
            from django.db import connection

            from labelstudio_app.demo import samples as demo_samples
            from labelstudio_app.projects.models import Item

            out = {"database": connection.vendor, "import_jsonl": [], "python": sys.version.split()[0]}
            for n in a.sizes:
                out["import_jsonl"].append(_import(_jsonl(Path(tmp) / f"items-{n}.jsonl", n), "auto"))
            log = Path(tmp) / "group_chat.log"
            log.write_text("\n".join(demo_samples.chat_log(random.Random(7), a.chat_messages)) + "\n", encoding="utf-8")
            chat = _import(log, "chatlog")
            chat["messages"] = a.chat_messages
            chat["lines_per_s"] = round(sum(1 for _ in log.open(encoding="utf-8")) / chat["seconds"])
            out["import_chatlog"] = chat
            big = _import(_jsonl(Path(tmp) / "export.jsonl", a.export_items), "auto")
            from labelstudio_app.projects.models import Project

            project = Project.objects.get(name="bench export.jsonl")
            project.training_template = {"instruction": "判断是否需要上下文：\n{context}\n问题：{text}",
                                         "output": "{label:needs_context|需要|不需要}"}
            project.save()
            Item.objects.filter(project=project).update(final_values={"needs_context": "yes"}, status="done")
            out["export"] = [_export(project, fmt) for fmt in ("jsonl", "csv", "sharegpt", "alpaca")]
            out["export_items"] = big["items"]
            connection.close()
        print(json.dumps(out, ensure_ascii=False, indent=1))
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {DB}", base=SERVER)


if __name__ == "__main__":
    main()
