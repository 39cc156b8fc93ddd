"""API tokens: revoke and rotate by their owner, an optional lifetime, dropped on a password change."""
from datetime import timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD


def _token(username="mia_manager") -> str:
    cache.clear()
    r = APIClient().post(reverse("api-token"), {"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.content
    return r.json()["token"]


def _with(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c


def _works(token: str) -> int:
    return _with(token).get(reverse("api-job-list")).status_code


def test_it_revokes_the_token_for_its_owner(world):
    token = _token()
    assert _works(token) == 200
    assert _with(token).post(reverse("api-token-revoke")).status_code == 204
    assert _works(token) == 401


def test_it_rotates_the_token_so_the_old_key_stops_working(world):
    old = _token()
    r = _with(old).post(reverse("api-token-rotate"))
    assert r.status_code == 200
    new = r.json()["token"]
    assert new != old and _works(new) == 200 and _works(old) == 401


def test_it_refuses_an_expired_token_and_issues_a_fresh_one(world, settings):
    settings.TOKEN_TTL_DAYS = 30
    token = _token()
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(days=31))
    r = _with(token).get(reverse("api-job-list"))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    fresh = _token()
    assert fresh != token and _works(fresh) == 200


def test_it_keeps_tokens_without_a_lifetime(world, settings):
    settings.TOKEN_TTL_DAYS = 0
    token = _token()
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(days=3650))
    assert _works(token) == 200


def test_it_invalidates_every_token_when_the_password_changes(world):
    token = _token()
    user = world.users["manager"]
    user.set_password("a new password 123")
    user.save()
    assert _works(token) == 401


def test_it_invalidates_tokens_when_the_admin_changes_a_password(world, client_as):
    token = _token()
    user = world.users["manager"]
    r = client_as(world.users["admin"]).post(reverse("admin:auth_user_password_change", args=[user.pk]),
                                             {"password1": "Another-pass-456", "password2": "Another-pass-456",
                                              "usable_password": "true"})
    assert r.status_code == 302, r.content[:500]
    assert _works(token) == 401
