"""The permission matrix: every named URL has a Rule in some `tests/<domain>/access.py`.

A domain's access module defines `RULES: dict[url_name, Rule]` and optionally `setup(world)`, which
hangs the objects its URLs need on the world (`world.extra["job"] = ...`).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

STAFF_ONLY = frozenset({"admin"})
MANAGERS = frozenset({"admin", "manager"})
MEMBERS = frozenset({"admin", "manager", "annotator", "reviewer"})
ANNOTATORS = frozenset({"admin", "manager", "annotator"})
REVIEWERS = frozenset({"admin", "manager", "reviewer"})
EVERYONE = frozenset({"admin", "manager", "annotator", "reviewer", "outsider"})


@dataclass(frozen=True)
class Rule:
    allowed: frozenset  # personas that succeed; every other logged-in persona gets 404 (or 403 from the API)
    kwargs: Callable = lambda world: {}
    method: str = "get"
    data: Callable | None = None  # request body for POST/PUT/PATCH
    public: bool = False  # anonymous users succeed too
    api: bool = False  # REST: anonymous gets 401/403 instead of a redirect to the login page
    fmt: str | None = None  # "json" for API bodies
    ok: tuple = field(default=(200, 201, 202, 204, 301, 302, 303))
