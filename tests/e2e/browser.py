"""Browser end-to-end: Playwright drives Debian's Chromium against the app under a real gunicorn.

- `live_app`: gunicorn on 127.0.0.1:<free port>, against the test database (session-wide). Tests that use
  it run transactionally (their rows are committed, so the server process sees them).
- `browser`: one headless Chromium per session (`/usr/bin/chromium`, never `playwright install`).
- `page_as(persona_or_user)`: a fresh browser context logged in through the real login form; every page
  it opens records console errors, CSP violations, uncaught exceptions and dialogs, and the test fails on
  any of them (`e2e.allow_console(pattern)` for a test that expects an error on purpose).
- `e2e.shot(page, "step")`: screenshot to test-artifacts/e2e/<test name>/NN-step.png.
"""
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from tests.bootstrap import require
from tests.conftest import ROOT, _db_url_for_tests, make_world
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's async-unsafe guard would trip on ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("FLYWHEEL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """gunicorn serving the WSGI app, in its own process group so it can be stopped cleanly."""

    def __init__(self, workers: int = 2, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.extra_env = extra_env or {}
        self.log_path = Path(settings.DATA_DIR) / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "LiveServer":
        env = {**os.environ, "DATABASE_URL": _db_url_for_tests(), "PYTHONUNBUFFERED": "1", **self.extra_env}
        env.pop("FLYWHEEL_TEST_DB_NAME", None)
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "labelstudio_app.wsgi:application", "-b", f"127.0.0.1:{self.port}",
             "-w", str(self.workers), "--threads", "4", "--timeout", "60", "--graceful-timeout", "2",
             "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log()[-4000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not listening after {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


_HASHES: dict = {}


def real_password_hash(username: str) -> None:
    """The suite hashes with MD5 for speed; the server runs the shipped hashers. Store one PBKDF2 hash of
    PASSWORD (computed once per session) for the user about to log in."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    if "pbkdf2" not in _HASHES:
        _HASHES["pbkdf2"] = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    get_user_model().objects.filter(username=username).update(password=_HASHES["pbkdf2"])


@pytest.fixture(scope="session")
def live_app(django_db_setup, django_db_blocker):
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        require(f"no Chromium at {CHROMIUM} (scripts/install-system.sh installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@dataclass
class PageProblems:
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    allowed: list = field(default_factory=list)

    def unexpected(self) -> list[str]:
        found = [f"console: {t}" for t in self.console_errors] + [f"exception: {t}" for t in self.page_errors]
        found = [t for t in found if not any(re.search(p, t) for p in self.allowed)]
        return found + [f"dialog fired: {d}" for d in self.dialogs]


class E2E:
    """Per-test helpers: screenshots, the watched pages, the world."""

    def __init__(self, request, live_app, browser, world):
        self.live = live_app
        self.browser = browser
        self.world = world
        self.problems = PageProblems()
        self.contexts = []
        self._n = 0
        name = re.sub(r"[^\w.-]+", "_", request.node.name)[:120]
        self.dir = ARTIFACTS / name
        if self.dir.exists():
            for old in self.dir.glob("*.png"):
                old.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)

    def url(self, path: str) -> str:
        return self.live.url + path

    def allow_console(self, pattern: str) -> None:
        self.problems.allowed.append(pattern)

    def watch(self, page) -> None:
        def on_console(msg):
            if msg.type == "error":
                where = (msg.location or {}).get("url", "")
                if where.endswith("/favicon.ico"):  # the browser asks on its own; not a page's fault
                    return
                self.problems.console_errors.append(f"{msg.text} [{where}]")

        def on_dialog(dialog):
            self.problems.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.page_errors.append(str(exc)))
        page.on("dialog", on_dialog)

    def new_page(self):
        context = self.browser.new_context(base_url=self.live.url, locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page)
        return page

    def shot(self, page, step: str) -> Path:
        self._n += 1
        slug = re.sub(r"[^\w.-]+", "_", step)
        path = self.dir / f"{self._n:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, page, username: str, password: str = PASSWORD) -> None:
        """Through the real login form, keyboard only."""
        if password == PASSWORD:
            real_password_hash(username)
        page.goto("/accounts/login/")
        page.get_by_label("Username").focus()
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/accounts/login/" not in page.url, f"login as {username} failed"

    def close(self) -> None:
        for c in self.contexts:
            c.close()


@pytest.fixture
def e2e(request, live_app, browser, transactional_db):
    helper = E2E(request, live_app, browser, make_world())
    yield helper
    helper.close()
    problems = helper.problems.unexpected()
    if problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page_as(e2e):
    """page_as("annotator") or page_as(user) -> a Playwright page logged in through the login form."""

    def open_as(who):
        user = e2e.world.users[who] if isinstance(who, str) else who
        page = e2e.new_page()
        e2e.login(page, user.username)
        return page

    return open_as
