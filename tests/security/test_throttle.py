"""Login throttling on the API token endpoint (the login page's own throttle is tested in tests/accounts)."""
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD


def test_it_throttles_the_token_endpoint_even_for_the_right_password(world):
    cache.clear()
    client = APIClient()
    url = reverse("api-token")
    codes = [client.post(url, {"username": "ann_annotator", "password": f"guess {i}"}).status_code for i in range(10)]
    assert codes == [400] * 10, codes
    r = client.post(url, {"username": "ann_annotator", "password": PASSWORD})
    assert r.status_code == 429, r.status_code
    assert "token" not in r.json() and "throttled" in r.json()["detail"].lower()
    assert int(r.headers["Retry-After"]) > 0
    cache.clear()
    r = client.post(url, {"username": "ann_annotator", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token"]


def test_it_throttles_per_address(world):
    cache.clear()
    url = reverse("api-token")
    attacker, colleague = APIClient(REMOTE_ADDR="10.0.0.66"), APIClient(REMOTE_ADDR="10.0.0.7")
    for i in range(11):
        attacker.post(url, {"username": "mia_manager", "password": f"guess {i}"})
    assert attacker.post(url, {"username": "mia_manager", "password": PASSWORD}).status_code == 429
    assert colleague.post(url, {"username": "ann_annotator", "password": PASSWORD}).status_code == 200
    cache.clear()
