"""Oversized bodies are refused before they are read; NUL characters in query parameters are a 400."""
import io
from pathlib import Path

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client
from django.urls import reverse

from labelstudio_app.core.middleware import BoundedStream
from labelstudio_app.projects.models import Item


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "flywheelboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nx\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + b"A" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_it_refuses_a_big_anonymous_login_post_before_spooling_it(db, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.MAX_BODY_MB = 2
    body, content_type = _multipart(5 * 1024 * 1024)
    r = Client(enforce_csrf_checks=True).generic("POST", reverse("login"), body, content_type=content_type)
    assert r.status_code == 413, r.status_code
    assert "limit is 2 MB" in r.content.decode()
    assert list(Path(tmp_path).iterdir()) == []


def test_it_accepts_a_normal_login_post(world):
    r = Client().post(reverse("login"), {"username": "ann_annotator", "password": "wrong"})
    assert r.status_code == 200


def test_it_refuses_an_upload_far_over_the_limit_with_413(world, client_as, settings):
    settings.MAX_UPLOAD_MB = 1
    body, content_type = _multipart(3 * 1024 * 1024)
    r = client_as(world.users["manager"]).generic(
        "POST", reverse("api-import-preview", kwargs={"project_id": world.project.pk}), body,
        content_type=content_type)
    assert r.status_code == 413 and "limit is 1 MB" in r.json()["detail"]
    assert Item.objects.filter(project=world.project).count() == 0


def test_it_stops_reading_a_body_longer_than_its_limit():
    source = io.BytesIO(b"x" * 100)
    stream = BoundedStream(source, 10)
    assert stream.read(5) == b"xxxxx"
    with pytest.raises(RequestDataTooBig):
        stream.read()
    assert source.tell() <= 11  # never more than one byte past the limit


def test_it_answers_400_naming_a_query_parameter_with_a_nul(world, client_as, api_as):
    project = world.project
    r = client_as(world.users["manager"]).get(reverse("item-list", kwargs={"project_id": project.pk}),
                                              {"q": "a\x00b"})
    assert r.status_code == 400 and "q" in r.content.decode() and "NUL" in r.content.decode()
    r = api_as(world.users["manager"]).get(reverse("api-job-list"), {"state": "\x00"})
    assert r.status_code == 400 and "state" in r.json()["detail"]
