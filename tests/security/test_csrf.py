"""CSRF is enforced on every form POST and every session-authenticated API write."""
import pytest
from django.test import Client

from tests.security.matrix import (
    RULES,
    URLS,
    WRITE_METHODS,
    first_allowed,
    request,
    rule_for,
    world_with_objects,
)

WRITES = sorted(n for n in URLS if n and RULES.get(n) and RULES[n].method in WRITE_METHODS)
# The token exchange authenticates with the password in the body, not a session; it is the API's login.
SESSIONLESS = {"api-token"}


def test_it_has_writes_to_check():
    assert {"job-cancel", "job-selftest", "api-job-cancel", "logout"} <= set(WRITES)


@pytest.mark.parametrize("name", sorted(set(WRITES) - SESSIONLESS))
def test_it_refuses_a_session_write_without_a_csrf_token(name, db):
    rule = rule_for(name)
    world = world_with_objects()
    persona = first_allowed(rule)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[persona])
    r = request(client, name, rule, world)
    assert r.status_code == 403, (name, persona, r.status_code, r.content[:300])
    assert b"CSRF" in r.content, (name, r.content[:300])


@pytest.mark.parametrize("name", sorted(set(WRITES) - SESSIONLESS))
def test_it_accepts_the_same_write_with_the_token(name, db):
    """The 403 above is CSRF's doing: with the token from the cookie the same request is allowed."""
    rule = rule_for(name)
    world = world_with_objects()
    persona = first_allowed(rule)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[persona])
    client.get("/")  # every page carries the token (hx-headers on <body>), which sets the cookie
    token = client.cookies["csrftoken"].value
    r = request(client, name, rule, world, HTTP_X_CSRFTOKEN=token)
    assert r.status_code in rule.ok, (name, persona, r.status_code, r.content[:300])
