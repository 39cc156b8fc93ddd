import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from labelstudio_app.accounts.models import Membership
from tests.factories import PASSWORD, ProjectFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
# The browser fixtures (gunicorn + Chromium) serve every package's UI tests, so they load once, here.
pytest_plugins = ["tests.e2e.browser"]
PERSONAS = ("admin", "manager", "annotator", "reviewer", "outsider")


def pytest_collection_modifyitems(config, items):
    """`gpu` tests need CUDA: skipped, with the reason, where there is none (every machine but a lent GPU one)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    import torch

    if not torch.cuda.is_available():
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU (none on this machine)"))


def pytest_configure(config):
    # Hashing is not under test here; PBKDF2 would make every persona cost ~0.2 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_by_default():
    """LocaleMiddleware leaves the last request's language active in the thread; every test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@dataclass
class World:
    """One project with a user per persona; domain `access.py` modules hang their objects on it."""

    project: object
    users: dict
    extra: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["extra"][name]
        except KeyError:
            raise AttributeError(name) from None


def make_world() -> World:
    project = ProjectFactory(name="演示项目 demo")
    users = {
        "admin": UserFactory(username="alice_admin", is_staff=True, is_superuser=True),
        "manager": UserFactory(username="mia_manager"),
        "annotator": UserFactory(username="ann_annotator"),
        "reviewer": UserFactory(username="rey_reviewer"),
        "outsider": UserFactory(username="otto_outsider"),
    }
    for role in ("manager", "annotator", "reviewer"):
        Membership.objects.create(user=users[role], project=project, role=role)
    # The outsider belongs to another project, so "member of something" never leaks into this one.
    Membership.objects.create(user=users["outsider"], project=ProjectFactory(name="other"), role="manager")
    return World(project=project, users=users)


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def client_as(client):
    """client_as(user) -> a Django test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_as():
    from rest_framework.test import APIClient

    def login(user):
        c = APIClient()
        c.force_authenticate(user)
        return c

    return login


# ---- a real Celery worker process --------------------------------------------------------------------

def _db_url_for_tests() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    return f"postgres://{s['USER']}@{host}:{port}/{s['NAME']}"


def _purge_broker() -> None:
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    else:
        shutil.rmtree(settings.BROKER_DIR, ignore_errors=True)
    settings.BROKER_DIR.mkdir(parents=True, exist_ok=True)


class WorkerProcess:
    """`celery -A workers worker` in a child process, against the test database and broker."""

    def __init__(self, queues: str = "default,gpu", extra_env: dict | None = None):
        self.queues = queues
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(settings.DATA_DIR) / f"worker-{time.time_ns()}.log"

    def start(self, timeout: float = 60) -> "WorkerProcess":
        env = {**os.environ, "DATABASE_URL": _db_url_for_tests(), "FLYWHEEL_JOB_STALE_SECONDS": "3",
               "FLYWHEEL_JOB_SWEEP_SECONDS": "1", "PYTHONUNBUFFERED": "1", **self.extra_env}
        env.pop("FLYWHEEL_TEST_DB_NAME", None)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", self.queues, "-P", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test{time.time_ns()}@%h",
             "-l", "info"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited at start:\n{self.log()[-4000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-job, as on an OOM kill or a power cut."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def worker_process(transactional_db):
    """Start with `worker_process()`; every worker started is stopped at the end of the test."""
    _purge_broker()
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        w = WorkerProcess(**kwargs).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The offline tiny model (random weights, tokenizer trained on the spot), built once per test session."""
    from workers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), pretrain_steps=0)


def wait_for(predicate, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


__all__ = ["PASSWORD", "PERSONAS", "UserFactory", "World", "make_world", "wait_for"]
