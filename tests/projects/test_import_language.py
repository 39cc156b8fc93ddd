"""An import's line errors in the language of the user who asked: the preview page, and the import job (which
runs in a worker, where no request says the language)."""
from django.urls import reverse
from django.utils import translation

from labelstudio_app.accounts.models import Membership
from tests.projects.factories import import_text, upload

BAD = '{"text": "怎么部署？"}\n{"text": 3}\n'


def test_the_preview_shows_line_errors_in_chinese(client, manager, project):
    Membership.objects.create(user=manager, project=project, role="manager")
    client.force_login(manager)
    client.cookies["django_language"] = "zh-hans"
    html = client.post(reverse("import-preview", kwargs={"project_id": project.pk}),
                       {"file": upload("bad.jsonl", BAD), "format": "auto"}).content.decode()
    assert "第 2 行：字段“text”必须是字符串，实际是 number" in html


def test_an_import_job_writes_its_errors_in_the_language_it_was_started_in(manager, project):
    with translation.override("zh-hans"):
        job = import_text(project, manager, "bad.jsonl", BAD)
    assert job.state == "failed" and job.language == "zh-hans"
    assert "第 2 行：字段“text”必须是字符串，实际是 number" in job.error
    assert "没有导入任何内容" in job.error and "nothing was imported" not in job.error  # the whole message
    english = import_text(project, manager, "bad.jsonl", BAD)
    assert "line 2: field 'text' must be a string, got number" in english.error
