"""What users see of a job's parameters: never an absolute server path."""
from django.urls import reverse

from tests.factories import JobFactory


def test_it_shows_an_uploads_file_name_not_its_server_path(world, api_as, settings):
    path = f"{settings.UPLOADS_DIR}/imports/{world.project.pk}/0123abcd/chat.jsonl"
    job = JobFactory(kind="import", project=world.project, created_by=world.users["manager"],
                     params={"path": path, "filename": "chat.jsonl", "format": "auto", "options": {"dir": "/srv/x"}})
    r = api_as(world.users["manager"]).get(reverse("api-job-list"))
    assert r.status_code == 200
    shown = next(j for j in r.json()["results"] if j["id"] == job.pk)
    assert shown["params"]["path"] == "chat.jsonl" and shown["params"]["options"] == {"dir": "x"}
    assert str(settings.DATA_DIR) not in r.content.decode()
