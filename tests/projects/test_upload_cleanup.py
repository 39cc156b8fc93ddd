"""Uploads do not pile up: a rejected import deletes its file, and a preview never imported is swept after
FLYWHEEL_UPLOAD_TTL_HOURS (on the next upload, and by the workers' sweeper)."""
import os
import time
from pathlib import Path

import pytest
from django.urls import reverse

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects import services
from tests.projects.factories import import_text, upload


@pytest.fixture(autouse=True)
def uploads_dir(settings, tmp_path):
    settings.UPLOADS_DIR = tmp_path / "uploads"
    return settings.UPLOADS_DIR


def _folders(uploads_dir: Path) -> set[str]:
    return {p.name for p in (uploads_dir / "imports").glob("*/*")}


@pytest.mark.parametrize("name,content", [
    ("bad.jsonl", '{"text": "好的问题？"}\n{"text": 3}\n'),   # a bad line: the import is rejected
    ("blank.jsonl", "\r\n  \n"),                              # unreadable as a whole
])
def test_a_rejected_import_leaves_no_file(project, manager, uploads_dir, name, content):
    job = import_text(project, manager, name, content)
    assert job.state == "failed"
    assert not Path(job.params["path"]).exists()
    assert _folders(uploads_dir) == set()


def test_a_stored_import_leaves_no_file(project, manager, uploads_dir):
    job = import_text(project, manager, "ok.jsonl", '{"text": "怎么部署？"}\n')
    assert job.state == "succeeded", job.error
    assert _folders(uploads_dir) == set()


def test_a_preview_with_errors_keeps_no_file(project, manager, client, uploads_dir):
    Membership.objects.create(user=manager, project=project, role="manager")
    client.force_login(manager)
    r = client.post(reverse("import-preview", kwargs={"project_id": project.pk}),
                    {"file": upload("bad.jsonl", '{"text": 1}\n'), "format": "auto"})
    assert r.status_code == 200 and "must be a string" in r.content.decode()
    assert _folders(uploads_dir) == set()


def _age(uploads_dir: Path, token: str, hours: float) -> None:
    folder = next((uploads_dir / "imports").glob(f"*/{token}"))
    then = time.time() - hours * 3600
    os.utime(folder, (then, then))


def test_a_stale_preview_is_swept_on_the_next_upload_and_a_fresh_one_kept(project, manager, uploads_dir, settings):
    settings.UPLOAD_TTL_HOURS = 24
    stale = services.import_upload_save(project=project, upload=upload("old.jsonl", '{"text": "a?"}\n'))["token"]
    fresh = services.import_upload_save(project=project, upload=upload("new.jsonl", '{"text": "b?"}\n'))["token"]
    waiting = services.import_upload_save(project=project, upload=upload("q.jsonl", '{"text": "c?"}\n'))["token"]
    services.import_start(project=project, user=manager, token=waiting)  # queued behind a long job
    _age(uploads_dir, stale, 25)
    _age(uploads_dir, fresh, 23)
    _age(uploads_dir, waiting, 25)

    latest = services.import_upload_save(project=project, upload=upload("next.jsonl", '{"text": "d?"}\n'))["token"]

    assert _folders(uploads_dir) == {fresh, waiting, latest}
    with pytest.raises(Exception, match="upload the file again"):
        services.import_start(project=project, user=manager, token=stale)


def test_the_ttl_is_a_setting_and_the_sweep_counts_what_it_deleted(project, uploads_dir, settings):
    settings.UPLOAD_TTL_HOURS = 1
    token = services.import_upload_save(project=project, upload=upload("a.jsonl", '{"text": "a?"}\n'))["token"]
    assert services.import_uploads_sweep() == 0
    _age(uploads_dir, token, 2)
    assert services.import_uploads_sweep() == 1
    assert _folders(uploads_dir) == set()
    assert not Job.objects.exists()
