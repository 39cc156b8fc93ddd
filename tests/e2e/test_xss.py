"""Hostile text in names, descriptions and job messages shows as text and runs nothing (no dialog fires)."""
from labelstudio_app.jobs.models import Job
from tests.e2e.payloads import ALL, assert_inert


def test_it_shows_hostile_project_and_job_text_as_text(e2e, page_as):
    project = e2e.world.project
    project.name = ALL
    project.description = ALL
    project.save()
    Job.objects.create(kind="selftest", project=project, state="failed", message=ALL, error=ALL, log=ALL,
                       result={"note": ALL})
    page = page_as("admin")
    for path, step in (("/", "home"), (f"/projects/{project.pk}/", "project"), ("/jobs/", "jobs")):
        page.goto(path)
        page.wait_for_timeout(300)  # let any (hostile) handler get its chance
        assert_inert(page)
        e2e.shot(page, step)
    job = Job.objects.get(project=project)
    page.goto(f"/jobs/{job.pk}/")
    page.wait_for_timeout(300)
    assert_inert(page)
    e2e.shot(page, "job-detail")
    assert e2e.problems.dialogs == []
