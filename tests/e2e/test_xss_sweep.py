"""Every page of the app, as an admin, with hostile text in every name and text the domains' objects carry:
no active content in the DOM, no dialog, no console error or CSP violation."""
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.models import Item
from tests.e2e.payloads import ALL, assert_no_active_content
from tests.test_permissions import MODULES, RULES, URLS


def admin_pages(world) -> list[tuple[str, str]]:
    """(URL name, URL) of every HTML page an admin may open in the world (downloads and exports aside)."""
    from django.urls import reverse

    names = sorted(n for n, rule in RULES.items() if n in URLS and rule.method == "get" and not rule.api
                   and "admin" in rule.allowed and "download" not in n and not n.endswith("export")
                   and "-export-" not in n)
    out = []
    for name in names:
        try:
            out.append((name, reverse(name, kwargs=RULES[name].kwargs(world))))
        except AttributeError:
            continue
    return out


def test_it_renders_every_page_with_hostile_text_as_text(e2e, page_as):
    world = e2e.world
    for m in MODULES:
        if hasattr(m, "setup"):
            m.setup(world)
    project = world.project
    project.name = project.description = project.instructions = ALL
    project.save(update_fields=["name", "description", "instructions"])
    Item.objects.filter(project=project).update(text=ALL, task_type=ALL, reference_answer=ALL)
    Job.objects.filter(project=project).update(message=ALL, error=ALL, log=ALL)
    for model_name in ("evaluation.Candidate", "evaluation.ModelVersion", "review.ComparisonRound"):
        from django.apps import apps

        model = apps.get_model(model_name)
        field = "text" if model_name.endswith("Candidate") else "name"
        for obj in model.objects.filter(**({"item__project": project} if field == "text" else {"project": project})):
            model.objects.filter(pk=obj.pk).update(**{field: f"{ALL} #{obj.pk}"})  # names are unique per project
    page = page_as("admin")
    visited = []
    for name, url in admin_pages(world):
        response = page.goto(url)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        assert response.status < 500, (name, response.status)
        page.wait_for_timeout(100)
        assert_no_active_content(page)
        visited.append(name)
    e2e.shot(page, "last-page")
    assert len(visited) >= 10, visited
    assert e2e.problems.dialogs == []
