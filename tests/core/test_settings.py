"""Settings fail loudly: a bad value or a missing secret is a clear error, not a silent default."""
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from labelstudio_app.env import env_bool, env_int


def _load_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"FLYWHEEL_DEV", "SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import labelstudio_app.settings as s; print('DEBUG', s.DEBUG)"],
        env={**clean, **env}, capture_output=True, text=True, timeout=60,
    )


def test_it_refuses_to_start_without_a_secret_key_in_production():
    r = _load_settings()
    assert r.returncode != 0
    assert "SECRET_KEY is required outside development" in r.stderr


def test_it_refuses_a_debug_value_that_is_not_a_boolean():
    r = _load_settings(SECRET_KEY="x" * 50, DEBUG="maybe")
    assert r.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in r.stderr


def test_it_keeps_debug_off_by_default():
    r = _load_settings(SECRET_KEY="x" * 50)
    assert r.returncode == 0, r.stderr
    assert "DEBUG False" in r.stdout


def test_it_reads_booleans_and_integers_strictly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "Yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_NUM='12a' is not an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="must be at least 1"):
        env_int("X_NUM", 1, minimum=1)
