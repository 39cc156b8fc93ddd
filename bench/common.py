"""Shared pieces of the load and fault benches: throwaway databases, gunicorn, a Celery worker, and PRIVATE
Redis / PostgreSQL instances that the fault bench may stop and restart (never the shared ones).

Everything listens on 127.0.0.1 only and is stopped by the script that started it.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
SHARED_PG = "postgresql://postgres@127.0.0.1:5432"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Bench users and their single-choice schema (every annotation needs `needs_context`).
SCHEMA = [
    {"name": "needs_context", "kind": "single_choice", "label": "需要结合上下文吗？", "required": True,
     "options": [{"value": "yes", "label": "需要", "key": "1"}, {"value": "no", "label": "不需要", "key": "2"},
                 {"value": "not_question", "label": "不是问题", "key": "3"}]},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30, proc: subprocess.Popen | None = None, what: str = "service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} not listening on {port} after {timeout}s")


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    s = sorted(samples)

    def at(q: float) -> float:
        return round(1000 * s[min(len(s) - 1, int(q * len(s)))], 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": round(1000 * s[-1], 1)}


# ---- databases -------------------------------------------------------------------------------------------

def admin_sql(sql: str, *, base: str = SHARED_PG) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def throwaway_database(name: str, *, base: str = SHARED_PG, keep: bool = False):
    """Creates database `name` (dropping a leftover first) and drops it afterwards. Only ever a bench_* name."""
    assert name.startswith("bench_"), "the benches only create and drop their own bench_* databases"
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', base=base)
    admin_sql(f'CREATE DATABASE "{name}"', base=base)
    try:
        yield f"{base.replace('postgresql://', 'postgres://')}/{name}"
    finally:
        if not keep:
            with contextlib.suppress(Exception):
                admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', base=base)


def django_setup(*, database_url: str, redis_url: str | None = None, data_dir: str | None = None) -> None:
    """Points this process's Django at the bench database and migrates it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("FLYWHEEL_DEV", "1")
    # The benches measure throughput with a few users; the per-user write throttle would be what they measure.
    os.environ.setdefault("FLYWHEEL_API_WRITE_RATE", "1000000/min")
    os.environ["FLYWHEEL_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix="flywheel-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "labelstudio_app.settings"
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLYWHEEL_TEST_DB_NAME", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"PYTHONUNBUFFERED": "1", "FLYWHEEL_DEV": "1", **{k: str(v) for k, v in extra.items()}})
    return env


# ---- processes -------------------------------------------------------------------------------------------

class Process:
    """A child in its own process group, with its output in a log file."""

    name = "process"

    def __init__(self, log_dir: Path):
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(log_dir) / f"{self.name}-{time.time_ns()}.log"

    def _spawn(self, argv: list[str], env: dict, **kwargs) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


class Gunicorn(Process):
    name = "gunicorn"

    def __init__(self, log_dir: Path, *, env: dict, workers: int = 3, threads: int = 4, timeout: int = 30,
                 port: int | None = None):
        super().__init__(log_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.workers, self.threads, self.timeout = env, workers, threads, timeout

    def start(self) -> Gunicorn:
        self._spawn([PY, "-m", "gunicorn", "labelstudio_app.wsgi:application", "-b", f"127.0.0.1:{self.port}",
                     "-w", str(self.workers), "--threads", str(self.threads), "--timeout", str(self.timeout),
                     "--graceful-timeout", "3", "--backlog", "512"], self.env)
        wait_port(self.port, 60, self.proc, "gunicorn")
        return self


class CeleryWorker(Process):
    name = "worker"

    def __init__(self, log_dir: Path, *, env: dict, queues: str = "default,gpu"):
        super().__init__(log_dir)
        self.env, self.queues = env, queues

    def start(self, timeout: float = 90) -> CeleryWorker:
        self._spawn([PY, "-m", "celery", "-A", "workers", "worker", "-Q", self.queues, "-P", "solo",
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "-n",
                     f"bench{time.time_ns()}@%h", "-l", "info"], self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log():
                return self
            if not self.alive():
                raise RuntimeError(f"worker exited at start:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()[-3000:]}")


class PrivateRedis(Process):
    """redis-server on its own port, no persistence. Stopping it never touches the shared Redis."""

    name = "redis"

    def __init__(self, log_dir: Path, port: int = 6391):
        super().__init__(log_dir)
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> PrivateRedis:
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        self._spawn([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--daemonize", "no"], os.environ.copy())
        wait_port(self.port, 15, self.proc, "redis")
        return self


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temp folder on its own port, run as the `postgres` OS user
    when we are root. `restart()` is a real server restart (fast shutdown: connections are cut)."""

    def __init__(self, port: int = 5441):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="flywheel-pg-"))
        self.data = self.dir / "data"
        self.base = f"postgresql://postgres@127.0.0.1:{port}"

    def _as_pg(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._as_pg([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                     "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        self._ctl("start")
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_pg([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "pg.log"),
                     "-w", "-t", "60", action, *extra])

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- data ------------------------------------------------------------------------------------------------

def seed_project(*, items: int, annotators: int, reviewers: int, overlap: int = 2, review_overlap: int = 1,
                 review_items: int | None = None, tag: str = "") -> dict:
    """One project with `items` items, annotators and reviewers with API tokens, two model versions with a
    candidate each per item, and an open comparison round (built by the review services)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from labelstudio_app.accounts.models import Membership
    from labelstudio_app.evaluation.models import Candidate, ModelVersion
    from labelstudio_app.projects.models import Item, Project
    from labelstudio_app.projects.schema import schema_validate
    from labelstudio_app.review import services as review_services

    User = get_user_model()
    admin = User.objects.filter(username="bench_admin").first() or User.objects.create_user(
        "bench_admin", password="bench-password-1", is_staff=True, is_superuser=True)
    project = Project.objects.create(name=f"负载 load bench {tag}".strip(), label_schema=schema_validate(SCHEMA), overlap=overlap,
                                     created_by=admin)
    context = [{"sender": "张三", "text": "mmpose 支持 TX2 吗", "time": "2024-03-01 09:00:00"}]
    Item.objects.bulk_create([Item(project=project, text=f"怎么把它部署到 TX2？ #{i}", context=context,
                                   task_type="deployment / edge", reference_answer=f"参考答案 {i}")
                              for i in range(items)], batch_size=2000)
    users = {"annotator": [], "reviewer": []}
    for role, n in (("annotator", annotators), ("reviewer", reviewers)):
        for i in range(n):
            u = User.objects.create_user(f"bench_{tag}{role}_{i:03d}", password="bench-password-1")
            Membership.objects.create(user=u, project=project, role=role)
            users[role].append({"username": u.username, "token": Token.objects.create(user=u).key})
    versions = [ModelVersion.objects.create(project=project, name=name, base_model="/models/none")
                for name in ("bench-base", "bench-lora")]
    review_ids = list(Item.objects.filter(project=project).order_by("id").values_list("pk", flat=True)[:review_items])
    Candidate.objects.bulk_create([Candidate(item_id=pk, model_version=mv, params_hash="bench", text=f"{mv.name} 的回答 {pk}")
                                   for mv in versions for pk in review_ids], batch_size=2000)
    rnd = review_services.round_create(project=project, user=admin, name="load round", model_a=versions[0],
                                       model_b=versions[1], items=review_ids, overlap=review_overlap)
    return {"project_id": project.pk, "round_id": rnd.pk, "overlap": overlap, "review_overlap": review_overlap,
            "users": users, "admin_token": Token.objects.get_or_create(user=admin)[0].key,
            "comparisons": rnd.comparisons.count()}
