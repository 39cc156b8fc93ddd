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


def test_it_blocks_injected_inline_script_by_csp_and_the_harness_notices(e2e, page_as):
    """If markup ever slipped through, the browser's CSP still refuses to run it, and the harness catches the
    violation (which would fail any other test)."""
    page = page_as("annotator")
    page.goto("/")
    page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = 'window.__pwned = 1; alert(1)';
        document.body.appendChild(s);
        const d = document.createElement('div'); d.innerHTML = '<img src=x onerror="window.__pwned = 2">';
        document.body.appendChild(d);
    }""")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None
    violations = [t for t in e2e.problems.console_errors if "Content Security Policy" in t]
    assert violations, e2e.problems.console_errors
    assert e2e.problems.dialogs == []
    e2e.problems.console_errors.clear()  # expected here; the next lines check nothing else went wrong
    e2e.allow_console(r"Failed to load resource")  # the <img src=x> itself 404s
