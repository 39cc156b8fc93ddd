"""Empty lists say what comes next, with a button only for a role that may take that step: the items list
(Import data), members (Add a member) and jobs (an import of a project the user manages)."""
from labelstudio_app.accounts.models import Membership


def _buttons(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{selector} .empty-state a.button").all_inner_texts()]


def test_the_empty_items_list_offers_the_import_to_a_manager_only(e2e, page_as):
    project = e2e.world.project
    manager = page_as("manager")
    manager.goto(f"/projects/{project.pk}/items/")
    e2e.shot(manager, "items-manager")
    assert "No items yet" in manager.inner_text("table.items")
    assert _buttons(manager, "table.items") == ["Import data"]
    manager.locator("table.items .empty-state a.button").click()
    manager.wait_for_url(f"**/projects/{project.pk}/import/")

    reviewer = page_as("reviewer")  # reviewers read items; annotators do not open this list at all
    reviewer.goto(f"/projects/{project.pk}/items/")
    e2e.shot(reviewer, "items-reviewer")
    assert "A manager of this project imports them" in reviewer.inner_text("table.items")
    assert _buttons(reviewer, "table.items") == []
    annotator = page_as("annotator")
    e2e.allow_console(r"status of 404")  # the browser logs the refusal itself
    assert annotator.goto(f"/projects/{project.pk}/items/").status == 404

    # a filter that matches nothing is no empty project: no button
    manager.goto(f"/projects/{project.pk}/items/?q=nothing-like-this")
    assert "No items match." in manager.inner_text("table.items") and _buttons(manager, "table.items") == []


def test_members_without_a_team_lead_to_adding_one(e2e, page_as):
    world = e2e.world
    project = world.project
    Membership.objects.filter(project=project).exclude(user=world.users["manager"]).delete()
    manager = page_as("manager")
    manager.goto(f"/projects/{project.pk}/members/")
    e2e.shot(manager, "members-manager-alone")
    # the screenshot leaves style="" on the inputs, which htmx's swap would carry over (a CSP report): start afresh
    manager.reload()
    assert _buttons(manager, "#members") == ["Add a member"]
    manager.locator("#members .empty-state a.button").click()
    assert manager.url.endswith("#member-add")
    # adding an annotator through the form it leads to ends the empty state
    manager.get_by_label("Username").fill(world.users["annotator"].username)
    manager.get_by_label("Role").select_option("annotator")
    manager.locator("#member-add button[type=submit]").click()
    manager.wait_for_function("() => !document.querySelector('#members .empty-state')")
    e2e.shot(manager, "members-with-annotator")
    assert Membership.objects.filter(project=project, user=world.users["annotator"], role="annotator").exists()

    annotator = page_as("annotator")  # the members page is for managers: an annotator never sees the button
    e2e.allow_console(r"status of 404")  # the browser logs the refusal itself
    assert annotator.goto(f"/projects/{project.pk}/members/").status == 404


def test_the_empty_jobs_list_offers_imports_of_managed_projects_only(e2e, page_as):
    world = e2e.world
    manager = page_as("manager")
    manager.goto("/jobs/")
    e2e.shot(manager, "jobs-manager")
    assert _buttons(manager, "table.jobs") == [f"Import data into {world.project.name}"]
    manager.locator("table.jobs .empty-state a.button").click()
    manager.wait_for_url(f"**/projects/{world.project.pk}/import/")

    annotator = page_as("annotator")
    annotator.goto("/jobs/")
    e2e.shot(annotator, "jobs-annotator")
    assert "A project's managers start jobs" in annotator.inner_text("table.jobs")
    assert _buttons(annotator, "table.jobs") == []
