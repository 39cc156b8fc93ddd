"""An admin starts the worker self-test and watches its progress bar reach 100% (real worker, real broker)."""
import pytest

from labelstudio_app.jobs.models import Job

pytestmark = pytest.mark.worker


def test_it_shows_a_job_progressing_to_done(e2e, page_as, worker_process):
    worker_process()
    page = page_as("admin")
    page.goto("/jobs/")
    e2e.shot(page, "jobs-page")
    button = page.get_by_role("button", name="Run a worker self-test")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    job = Job.objects.get(kind="selftest")
    assert page.url.endswith(f"/jobs/{job.pk}/")
    row = page.locator(f"#job-{job.pk}")
    # The row polls every 2 s; catch it mid-way at least once on the way to 100%.
    page.wait_for_function(
        "id => { const p = document.querySelector('#job-' + id + ' progress'); return p && +p.value > 0; }",
        arg=job.pk, timeout=60_000)
    e2e.shot(page, "running")
    page.wait_for_function(
        "id => { const p = document.querySelector('#job-' + id + ' progress'); return p && +p.value === 100; }",
        arg=job.pk, timeout=90_000)
    assert "100%" in row.inner_text() and "Succeeded" in row.inner_text()
    e2e.shot(page, "done")
    job.refresh_from_db()
    assert job.state == "succeeded" and job.progress_done == job.progress_total == 20
    # The finished row no longer polls (the server answered 286).
    assert row.get_attribute("hx-get") is None
