"""The URLconf and the domains' permission RULES, shared by the security tests (same source as test_permissions)."""
from django.urls import reverse

from tests.conftest import World, make_world
from tests.test_permissions import MODULES, RULES, URLS

WRITE_METHODS = ("post", "put", "patch", "delete")


def rule_for(name: str):
    """The domain's rule; a URL without one is skipped here (tests/test_permissions.py fails for it)."""
    import pytest

    rule = RULES.get(name)
    if rule is None:
        pytest.skip(f"{name} has no permission rule yet (tests/test_permissions.py reports it)")
    return rule


def world_with_objects() -> World:
    world = make_world()
    for m in MODULES:
        if hasattr(m, "setup"):
            m.setup(world)
    return world


def request(client, name: str, rule, world, kwargs: dict | None = None, **extra):
    url = reverse(name, kwargs=rule.kwargs(world) if kwargs is None else kwargs)
    body = rule.data(world) if rule.data else None
    from rest_framework.test import APIClient

    options = {"format": rule.fmt} if rule.fmt and isinstance(client, APIClient) else {}
    if rule.fmt == "json" and not options:
        import json

        options = {"data": json.dumps(body if body is not None else {}), "content_type": "application/json"}
        return getattr(client, rule.method)(url, **options, **extra)
    if body is not None:
        return getattr(client, rule.method)(url, body, **options, **extra)
    return getattr(client, rule.method)(url, **extra)


def first_allowed(rule) -> str:
    for persona in ("admin", "manager", "reviewer", "annotator", "outsider"):
        if persona in rule.allowed:
            return persona
    return "admin"


__all__ = ["RULES", "URLS", "WRITE_METHODS", "first_allowed", "request", "rule_for", "world_with_objects"]
