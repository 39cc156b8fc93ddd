"""The project's tabs: grouped by the loop's stages, only the ones a role may open, the current one marked."""
import re

from django.urls import reverse

from labelstudio_app.accounts.models import Membership
from tests.factories import ItemFactory, UserFactory


def _nav(html: str) -> str:
    return html[html.index('<nav class="tabs"'):html.index("</nav>", html.index('<nav class="tabs"'))]


def _stages(nav: str) -> list[str]:
    return re.findall(r'<span class="stage">([^<]+)</span>', nav)


def test_a_manager_sees_every_stage_in_loop_order_with_the_current_page_marked(client_as, manager, project):
    html = client_as(manager).get(reverse("training-snapshot-list", kwargs={"project_id": project.pk})).content
    nav = _nav(html.decode())
    assert _stages(nav) == ["Overview", "Data", "Labelling", "Models and generation", "Review", "Training", "Audit",
                            "Settings"]
    current = re.findall(r'<a href="([^"]+)" class="active" aria-current="page">([^<]+)</a>', nav)
    assert current == [(reverse("training-snapshot-list", kwargs={"project_id": project.pk}), "Snapshots")]
    assert '<div class="tab-group active"><span class="stage">Training</span>' in nav


def test_an_annotator_sees_only_what_they_can_open(client_as, project):
    ann = UserFactory(username="标注员")
    Membership.objects.create(project=project, user=ann, role="annotator")
    nav = _nav(client_as(ann).get(reverse("project-detail", kwargs={"project_id": project.pk})).content.decode())
    assert _stages(nav) == ["Overview", "Labelling"]
    assert re.findall(r">([^<]+)</a>", nav) == ["Overview", "Label"]
    assert 'aria-current="page">Overview</a>' in nav
    for href in re.findall(r'href="([^"]+)"', nav):
        assert client_as(ann).get(href).status_code == 200, href


def test_the_overview_shows_where_the_project_stands_and_the_next_step_for_the_viewer(client_as, manager, project):
    url = reverse("project-detail", kwargs={"project_id": project.pk})
    html = client_as(manager).get(url).content.decode()
    stages = re.findall(r'<li class="(reached|pending)"><span class="count">(\d+)</span> ([^<]+)</li>', html)
    assert [s[2] for s in stages] == ["Items", "Items labelled", "Candidate answers", "Snapshots",
                                      "Finished training runs", "New model versions", "Rounds against the parent",
                                      "Judgments"]
    assert all(s[0] == "pending" and s[1] == "0" for s in stages)
    import_url = reverse("import-page", kwargs={"project_id": project.pk})
    assert f'<a class="button primary" href="{import_url}">Import items</a>' in html

    ItemFactory(project=project)
    ann = UserFactory(username="标注员")
    Membership.objects.create(project=project, user=ann, role="annotator")
    label_url = reverse("label-page", kwargs={"project_id": project.pk})
    assert f'href="{label_url}">Label items</a>' in client_as(ann).get(url).content.decode()
    reviewer = UserFactory(username="reviewer_nav")
    Membership.objects.create(project=project, user=reviewer, role="reviewer")
    assert "Label items (waiting for an annotator)" in client_as(reviewer).get(url).content.decode()

    item = project.items.get()
    item.status = "done"
    item.save()
    snapshot_url = reverse("training-snapshot-create", kwargs={"project_id": project.pk})
    html = client_as(manager).get(url).content.decode()  # candidate answers are optional: never the next step
    assert f'<a class="button primary" href="{snapshot_url}">Build a snapshot</a>' in html


def test_every_page_names_its_icon_and_favicon_ico_finds_it(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 302 and r["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get(reverse("login")).content.decode()
