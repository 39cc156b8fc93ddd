"""A failed job tells its owner what went wrong, never a traceback or where files sit on the server;
staff still find the traceback in the job's log."""
import pytest
from django.urls import reverse

from labelstudio_app.jobs.errors import error_public
from labelstudio_app.projects import services
from tests.projects.factories import run_inline

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "flywheel-data"
    settings.ARTIFACTS_DIR = settings.DATA_DIR / "artifacts"
    settings.UPLOADS_DIR = settings.DATA_DIR / "uploads"
    settings.ARTIFACTS_DIR.mkdir(parents=True)
    return settings.DATA_DIR


@pytest.fixture
def failed_export(world, data_dir):
    # A file where the exports folder should be: the worker's mkdir fails with the folder's full path.
    (data_dir / "artifacts" / "exports").write_text("not a folder")
    job = services.export_start(project=world.project, user=world.users["manager"], fmt="jsonl")
    job = run_inline(job)
    assert job.state == "failed"
    return job


def test_its_owner_sees_the_message_without_traceback_or_server_path(failed_export, world, api_as, client_as,
                                                                     data_dir):
    api = api_as(world.users["manager"]).get(reverse("api-job-detail", kwargs={"job_id": failed_export.pk}))
    assert api.status_code == 200
    error = api.json()["error"]
    assert "File exists" in error and "artifacts/exports" in error, error
    assert "Traceback" not in api.content.decode() and str(data_dir) not in api.content.decode()

    for page in (reverse("job-detail", kwargs={"job_id": failed_export.pk}),
                 reverse("export-page", kwargs={"project_id": world.project.pk})):
        html = client_as(world.users["manager"]).get(page).content.decode()
        assert "File exists" in html, page
        assert "Traceback" not in html and str(data_dir) not in html, page


def test_staff_still_see_the_traceback_in_the_log(failed_export, world, client_as):
    assert "Traceback (most recent call last)" in failed_export.log and "FileExistsError" in failed_export.log
    html = client_as(world.users["admin"]).get(reverse("job-detail", kwargs={"job_id": failed_export.pk})).content
    assert b"Traceback (most recent call last)" in html


def test_an_import_failure_shows_the_message_alone_on_the_import_page(world, client_as, data_dir):
    from tests.projects.factories import import_text

    job = import_text(world.project, world.users["manager"], "blank.jsonl", "\r\n  \n")
    assert job.state == "failed" and job.error == "The file is empty."
    html = client_as(world.users["manager"]).get(reverse("import-page", kwargs={"project_id": world.project.pk}))
    assert "The file is empty." in html.content.decode() and str(data_dir) not in html.content.decode()


def test_it_rewrites_paths_and_drops_an_embedded_traceback(data_dir):
    text = ("model load failed: Traceback (most recent call last):\n  File \"/usr/lib/python3/x.py\", line 3\n"
            f"OSError: cannot open {data_dir}/artifacts/models/m1/config.json.")
    assert error_public(text) == "model load failed:\nOSError: cannot open artifacts/models/m1/config.json."
    assert error_public("no such file: '/srv/other/weights/adapter.bin'") == "no such file: 'adapter.bin'"
    # not paths: a task type, a fraction, a URL
    kept = "task type usage / api, 1/2 done, see https://example.com/a/b"
    assert error_public(kept) == kept
