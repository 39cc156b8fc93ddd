"""Login throttles live in the shared cache, keyed by username and address."""
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from labelstudio_app.accounts.throttle import ApiWriteThrottle
from tests.factories import PASSWORD


def _login(client, username, password):
    r = client.post(reverse("login"), {"username": username, "password": password})
    return "Too many failed logins" in r.content.decode(), r


def test_it_keeps_throttles_in_a_cache_every_process_shares(settings):
    backend = settings.CACHES["default"]["BACKEND"]
    expected = "RedisCache" if settings.REDIS_URL else "DatabaseCache"
    assert backend.endswith(expected), backend


def test_it_creates_the_database_cache_table_on_migrate(db):
    assert "flywheel_cache" in connection.introspection.table_names()


def test_it_counts_failures_of_two_clients_together_in_the_database_cache(world, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                   "LOCATION": "flywheel_cache"}}
    settings.LOGIN_FAILURES_PER_MINUTE = 4
    first, second = Client(REMOTE_ADDR="10.1.0.1"), Client(REMOTE_ADDR="10.1.0.1")  # two processes' worth
    for client in (first, second, first, second):
        assert not _login(client, "ann_annotator", "wrong")[0]
    assert _login(first, "ann_annotator", PASSWORD)[0]
    assert _login(Client(REMOTE_ADDR="10.1.0.1"), "ann_annotator", PASSWORD)[0]


def test_it_does_not_lock_the_user_out_from_another_address(world, settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_MINUTE = 3
    attacker = Client(REMOTE_ADDR="10.2.0.66")
    for _ in range(5):
        _login(attacker, "ann_annotator", "wrong")
    assert _login(attacker, "ann_annotator", PASSWORD)[0]
    throttled, r = _login(Client(REMOTE_ADDR="10.2.0.7"), "ann_annotator", PASSWORD)
    assert not throttled and r.status_code == 302


def test_it_throttles_one_address_guessing_many_usernames(world, settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_MINUTE, settings.LOGIN_FAILURES_PER_IP_PER_MINUTE = 3, 5
    attacker = Client(REMOTE_ADDR="10.3.0.66")
    for i in range(5):
        assert not _login(attacker, f"someone{i}", "wrong")[0]
    assert _login(attacker, "mia_manager", PASSWORD)[0]


def test_it_throttles_the_admin_login_page(world, settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_MINUTE = 2
    client = Client(REMOTE_ADDR="10.4.0.66")
    url = reverse("admin:login")
    for _ in range(2):
        r = client.post(url, {"username": "alice_admin", "password": "wrong"})
        assert r.status_code == 200 and "Too many failed logins" not in r.content.decode()
    r = client.post(url, {"username": "alice_admin", "password": PASSWORD})
    assert r.status_code == 200 and "Too many failed logins" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_throttles_api_writes_per_user(world, settings):
    cache.clear()
    settings.API_WRITE_RATE = "3/min"
    assert "labelstudio_app.accounts.throttle.ApiWriteThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    url = reverse("api-job-list")
    manager, other = world.users["manager"], world.users["annotator"]
    token_client = APIClient()
    token_client.force_authenticate(manager)
    codes = [token_client.post(reverse("api-token-rotate")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429], codes
    assert token_client.get(url).status_code == 200  # reads are not counted
    colleague = APIClient()
    colleague.force_authenticate(other)
    assert colleague.post(reverse("api-token-rotate")).status_code == 200
    assert ApiWriteThrottle().get_rate() == "3/min"
    cache.clear()


def test_it_lets_logins_and_writes_through_while_the_cache_is_down(world, settings):
    # Nothing listens on this port (the range kept for these tests): every cache call fails to connect.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:18499/0"}}
    r = Client(REMOTE_ADDR="10.5.0.1").post(reverse("login"), {"username": "ann_annotator", "password": PASSWORD})
    assert r.status_code == 302
    api = APIClient()
    api.force_authenticate(world.users["manager"])
    assert api.post(reverse("api-token-rotate")).status_code == 200
