import pytest
from django.urls import reverse

from labelstudio_app.jobs.models import Job
from tests.factories import JobFactory


def test_it_polls_a_running_job_and_stops_polling_when_done(client_as, world):
    job = JobFactory(project=world.project, state="running", progress_done=3, progress_total=10)
    c = client_as(world.users["manager"])
    r = c.get(reverse("job-detail", kwargs={"job_id": job.pk}), HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'hx-trigger="every 2s"' in r.content.decode() and "30%" in r.content.decode()
    Job.objects.filter(pk=job.pk).update(state="succeeded")
    r = c.get(reverse("job-detail", kwargs={"job_id": job.pk}), HTTP_HX_REQUEST="true")
    assert r.status_code == 286 and "every 2s" not in r.content.decode() and "100%" in r.content.decode()


def test_it_cancels_from_the_page(client_as, world):
    job = JobFactory(project=world.project, state="running", kind="import")
    r = client_as(world.users["manager"]).post(reverse("job-cancel", kwargs={"job_id": job.pk}), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    job.refresh_from_db()
    assert job.cancel_requested and job.state == "running"  # stops at the worker's next batch


def test_it_shows_each_user_only_their_jobs(client_as, world, django_assert_max_num_queries):
    mine = JobFactory(project=world.project)
    hidden = JobFactory()  # another project's job
    for _ in range(5):
        JobFactory(project=world.project)
    c = client_as(world.users["manager"])
    with django_assert_max_num_queries(6):  # session, user, nav role, jobs: not one per row
        html = c.get(reverse("job-list")).content.decode()
    assert f"#{mine.pk}<" in html and f"#{hidden.pk}<" not in html


def test_it_lets_staff_start_a_worker_self_test(client_as, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        r = client_as(world.users["admin"]).post(reverse("job-selftest"))
    job = Job.objects.get(kind="selftest")
    assert r.status_code == 302 and r["Location"] == reverse("job-detail", kwargs={"job_id": job.pk})


@pytest.mark.parametrize("kind", ["training", "tiny_model"])
def test_it_refuses_a_manager_cancelling_a_staff_only_job(client_as, api_as, world, kind):
    job = JobFactory(project=world.project, state="running", kind=kind, created_by=world.users["admin"])
    manager = world.users["manager"]
    assert api_as(manager).get(reverse("api-job-detail", kwargs={"job_id": job.pk})).status_code == 200
    r = api_as(manager).post(reverse("api-job-cancel", kwargs={"job_id": job.pk}))
    assert r.status_code == 403
    r = client_as(manager).post(reverse("job-cancel", kwargs={"job_id": job.pk}), HTTP_HX_REQUEST="true")
    assert r.status_code == 403
    job.refresh_from_db()
    assert not job.cancel_requested and job.state == "running"
    r = api_as(world.users["admin"]).post(reverse("api-job-cancel", kwargs={"job_id": job.pk}))
    assert r.status_code == 202
    job.refresh_from_db()
    assert job.cancel_requested


def test_it_lists_jobs_by_their_name_with_start_duration_and_who_started_them(client_as, world):
    from datetime import timedelta

    from django.utils import timezone

    started = timezone.now() - timedelta(seconds=90)
    JobFactory(project=world.project, kind="tiny_model", state="succeeded", created_by=world.users["admin"],
               started_at=started, finished_at=started + timedelta(seconds=42))
    html = client_as(world.users["admin"]).get(reverse("job-list")).content.decode()
    assert "<td>Tiny demo model</td>" in html and "tiny_model" not in html
    assert started.strftime("%Y-%m-%d") in html and "42 s" in html and world.users["admin"].username in html


def test_the_empty_list_offers_imports_only_where_the_user_manages(client_as, world):
    import_url = reverse("import-page", kwargs={"project_id": world.project.pk})
    pages = {who: client_as(world.users[who]).get(reverse("job-list")).content.decode()
             for who in ("manager", "annotator", "admin", "outsider")}
    assert import_url in pages["manager"] and "Import data into" in pages["manager"]
    assert "Import data into" not in pages["annotator"] and "A project's managers start jobs" in pages["annotator"]
    # staff who manage nothing themselves: what starts a job, without someone else's project as a button
    assert "Importing data starts the first one" in pages["admin"] and "Import data into" not in pages["admin"]
    assert import_url not in pages["outsider"] and "Import data into other" in pages["outsider"]
