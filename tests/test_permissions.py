"""Every URL × every persona. A new URL without a rule fails here, so access can never be forgotten."""
import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests
from tests.conftest import PERSONAS, make_world

SKIP_NAMESPACES = {"admin"}  # Django's own admin: staff-only by its own checks (tested below)


def _named_urls(patterns=None, namespace=None):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace in SKIP_NAMESPACES:
                continue
            yield from _named_urls(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace and p.name else p.name), str(p.pattern)


def _access_modules():
    for info in pkgutil.iter_modules(tests.__path__):
        if info.ispkg:
            try:
                yield importlib.import_module(f"tests.{info.name}.access")
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{info.name}.access":
                    raise


MODULES = list(_access_modules())
RULES = {name: rule for m in MODULES for name, rule in m.RULES.items()}
URLS = dict(_named_urls())


def test_it_has_a_rule_for_every_url():
    unnamed = [pattern for name, pattern in URLS.items() if not name]
    assert not unnamed, f"every URL needs a name: {unnamed}"
    missing = sorted(set(URLS) - set(RULES))
    assert not missing, f"URLs without a permission rule (add them to tests/<domain>/access.py): {missing}"
    stale = sorted(set(RULES) - set(URLS))
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def _request(client, name, rule, world):
    url = reverse(name, kwargs=rule.kwargs(world))
    body = rule.data(world) if rule.data else None
    kwargs = {"format": rule.fmt} if rule.fmt else {}
    return getattr(client, rule.method)(url, body, **kwargs) if body is not None else getattr(client, rule.method)(url)


@pytest.mark.parametrize("persona", (*PERSONAS, "anonymous"))
@pytest.mark.parametrize("name", sorted(n for n in URLS if n))
def test_it_enforces_the_rule(name, persona, db):
    from rest_framework.test import APIClient

    rule = RULES.get(name)
    if rule is None:
        pytest.fail(f"no rule for {name}")
    world = make_world()
    for m in MODULES:
        if hasattr(m, "setup"):
            m.setup(world)
    client = APIClient(enforce_csrf_checks=False)
    if persona != "anonymous":
        client.force_login(world.users[persona])
    r = _request(client, name, rule, world)
    if persona == "anonymous" and not rule.public:
        if rule.api:
            assert r.status_code in (401, 403), (name, r.status_code)
        else:
            assert r.status_code == 302 and "/accounts/login/" in r["Location"], (name, r.status_code)
    elif persona == "anonymous" or persona in rule.allowed:
        assert r.status_code in rule.ok, (name, persona, r.status_code, r.content[:500])
        if r.status_code in (301, 302, 303):
            assert "/accounts/login/" not in r["Location"], (name, persona)
    else:
        assert r.status_code in (403, 404), (name, persona, r.status_code)


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_keeps_the_django_admin_for_staff(persona, client, db):
    world = make_world()
    client.force_login(world.users[persona])
    r = client.get(reverse("admin:index"))
    assert (r.status_code == 200) == (persona == "admin")
