"""Every job kind and follow-up names a function that exists, so renaming or moving a handler fails here
rather than in a worker at run time."""
import inspect
from importlib import import_module

import pytest

from labelstudio_app.jobs.kinds import JOB_FOLLOWUPS, JOB_KINDS


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


@pytest.mark.parametrize("kind", sorted(JOB_KINDS))
def test_it_imports_the_handler_of_every_job_kind(kind):
    handler = _resolve(JOB_KINDS[kind].handler)
    assert callable(handler) and list(inspect.signature(handler).parameters) == ["ctx"]


@pytest.mark.parametrize("name", sorted(JOB_FOLLOWUPS))
def test_it_imports_every_follow_up(name):
    followup = _resolve(JOB_FOLLOWUPS[name])
    assert callable(followup) and "job" in inspect.signature(followup).parameters


def test_it_keeps_every_handler_under_workers():
    assert all(kind.handler.startswith("workers.") for kind in JOB_KINDS.values())
