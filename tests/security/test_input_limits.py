"""Upload size limit and model / adapter paths outside the allowed roots: refused with a clear message,
nothing stored."""
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.projects.models import Item


def _uploads() -> list[Path]:
    root = Path(django_settings.UPLOADS_DIR)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _big_jsonl(mb: float) -> bytes:
    line = '{"text": "怎么把它部署到 TX2？ ' + "长" * 200 + '"}\n'
    n = int(mb * 1024 * 1024 / len(line.encode())) + 1
    return (line * n).encode()


@pytest.mark.parametrize("endpoint", ["api-import-create", "api-import-preview"])
def test_it_refuses_an_upload_over_the_limit_through_the_api(endpoint, world, api_as, settings):
    settings.MAX_UPLOAD_MB = 1
    before = _uploads()
    r = api_as(world.users["manager"]).post(
        reverse(endpoint, kwargs={"project_id": world.project.pk}),
        {"file": SimpleUploadedFile("big.jsonl", _big_jsonl(1.3), content_type="application/json"), "format": "auto"},
        format="multipart")
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert "limit is 1 MB" in r.content.decode()
    assert Item.objects.filter(project=world.project).count() == 0
    assert _uploads() == before  # nothing kept on disk either


def test_it_refuses_an_upload_over_the_limit_on_the_import_page(world, client_as, settings):
    settings.MAX_UPLOAD_MB = 1
    before = _uploads()
    r = client_as(world.users["manager"]).post(
        reverse("import-preview", kwargs={"project_id": world.project.pk}),
        {"file": SimpleUploadedFile("big.jsonl", _big_jsonl(1.3)), "format": "auto"})
    assert r.status_code in (200, 400, 422)
    assert "limit is 1 MB" in r.content.decode()
    assert Item.objects.filter(project=world.project).count() == 0 and _uploads() == before


def test_it_accepts_a_file_just_under_the_limit(world, api_as, settings):
    settings.MAX_UPLOAD_MB = 1
    r = api_as(world.users["manager"]).post(
        reverse("api-import-preview", kwargs={"project_id": world.project.pk}),
        {"file": SimpleUploadedFile("ok.jsonl", _big_jsonl(0.9)), "format": "auto"}, format="multipart")
    assert r.status_code == 200, r.content[:300]


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside every model root, holding what looks like a model."""
    d = tmp_path / "elsewhere" / "model"
    d.mkdir(parents=True)
    (d / "config.json").write_text("{}")
    (d / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    return d


def _escapes(outside: Path) -> dict[str, str]:
    root = Path(django_settings.ARTIFACTS_DIR)
    root.mkdir(parents=True, exist_ok=True)
    link = root / "models" / "innocent-looking-link"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        os.symlink(outside, link)
    return {
        "absolute path outside the roots": str(outside),
        "system folder": "/etc",
        "dot-dot out of a root": f"{root}/models/../../../{outside.relative_to('/')}",
        "relative path": "./models/tiny",  # ("models/tiny" reads as a hub id)
        "symlink inside a root pointing out": str(link),
    }


@pytest.mark.parametrize("field", ["base_model", "adapter_path"])
def test_it_refuses_model_and_adapter_paths_outside_the_allowed_roots(field, world, api_as, outside, settings):
    settings.ALLOW_HUB_MODELS = True  # so the adapter path, not the hub-id base model, is what gets checked
    url = reverse("api-model-version-list", kwargs={"project_id": world.project.pk})
    for what, path in _escapes(outside).items():
        body = {"name": f"escape {field} {what}", "base_model": "Qwen/Qwen2.5-0.5B-Instruct", field: path}
        r = api_as(world.users["admin"]).post(url, body, format="json")
        assert r.status_code == 400, (what, path, r.status_code, r.content[:300])
        assert field in r.json()["errors"], (what, r.json())
    assert not ModelVersion.objects.filter(project=world.project).exists()
