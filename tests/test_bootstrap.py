"""Under CI=true a test whose browser or server binaries are missing fails instead of skipping."""
import pytest

from tests import bootstrap


def test_it_fails_a_missing_requirement_under_ci(monkeypatch):
    monkeypatch.setattr(bootstrap, "CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true: no Chromium"):
        bootstrap.require("no Chromium")


def test_it_skips_a_missing_requirement_outside_ci(monkeypatch):
    monkeypatch.setattr(bootstrap, "CI", False)
    with pytest.raises(pytest.skip.Exception):
        bootstrap.require("no Chromium")
