"""`manage.py flywheel_demo` is idempotent and imports through the real import job."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.models import Item, Project
from tests.projects.factories import run_inline


def test_it_creates_the_demo_once_and_imports_through_the_job(db):
    out = StringIO()
    call_command("flywheel_demo", "--messages", "400", stdout=out)
    assert "password flywheel-admin" in out.getvalue()
    project = Project.objects.get(name="Demo: group-chat questions")
    assert project.label_schema[0]["name"] == "needs_context"
    # One annotator account: an overlap of 1 lets items reach "done" without a second labeller.
    assert project.overlap == 1
    [model_job] = Job.objects.filter(project=project, kind="offline_model")
    assert model_job.state == "queued" and model_job.queue == "gpu"
    assert set(Membership.objects.filter(project=project).values_list("user__username", "role")) == {
        ("admin", "manager"), ("manager", "manager"), ("annotator", "annotator"), ("reviewer", "reviewer")}
    job = Job.objects.get(project=project, kind="import")
    assert job.state == "queued"
    job = run_inline(job)
    assert job.state == "succeeded", job.error
    n = Item.objects.filter(project=project).count()
    assert n == job.result["items"] > 0
    out = StringIO()
    call_command("flywheel_demo", "--messages", "400", stdout=out)
    assert "exists (password unchanged)" in out.getvalue() and "already imported" in out.getvalue()
    assert Project.objects.filter(name="Demo: group-chat questions").count() == 1
    assert Job.objects.filter(project=project, kind="import").count() == 1
    assert Item.objects.filter(project=project).count() == n
    # The demo model job still queued is the one the next start waits for; none is queued twice.
    assert list(Job.objects.filter(project=project, kind="offline_model")) == [model_job]


def test_it_waits_for_the_demo_model_and_says_why_it_is_not_ready(db):
    call_command("flywheel_demo", "--messages", "50", stdout=StringIO())
    project = Project.objects.get(name="Demo: group-chat questions")
    job = Job.objects.get(project=project, kind="offline_model")
    Job.objects.filter(pk=job.pk).update(state="failed", error="the wheel is missing: run scripts/install-models.sh")
    with pytest.raises(CommandError, match="failed: the wheel is missing"):
        call_command("flywheel_demo_wait", "--timeout", "1", stdout=StringIO())
    Job.objects.filter(pk=job.pk).update(state="succeeded", progress_done=4, progress_total=4, error="")
    out = StringIO()
    call_command("flywheel_demo_wait", "--timeout", "1", stdout=out)
    assert f"demo model job #{job.pk}: succeeded 4/4" in out.getvalue()
