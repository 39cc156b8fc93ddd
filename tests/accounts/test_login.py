from django.urls import reverse

from tests.factories import PASSWORD


def test_it_logs_in_with_a_password(client, world):
    r = client.post(reverse("login"), {"username": "ann_annotator", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_it_throttles_repeated_failed_logins(client, world, settings):
    settings.LOGIN_FAILURES_PER_MINUTE = 3
    for _ in range(3):
        r = client.post(reverse("login"), {"username": "ann_annotator", "password": "wrong"})
        assert r.status_code == 200 and "Too many" not in r.content.decode()
    # Even the right password is refused while the address is throttled.
    r = client.post(reverse("login"), {"username": "ann_annotator", "password": PASSWORD})
    assert r.status_code == 200 and "Too many failed logins" in r.content.decode()


def test_it_issues_api_tokens_that_authenticate(client, world):
    r = client.post(reverse("api-token"), {"username": "mia_manager", "password": PASSWORD})
    token = r.json()["token"]
    r = client.get(reverse("api-job-list"), HTTP_AUTHORIZATION=f"Token {token}")
    assert r.status_code == 200


def test_it_enforces_csrf_on_session_api_writes(world):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["admin"])
    from tests.factories import JobFactory

    job = JobFactory(project=world.project)
    r = c.post(reverse("api-job-cancel", kwargs={"job_id": job.pk}))
    assert r.status_code == 403 and "CSRF" in r.content.decode()
