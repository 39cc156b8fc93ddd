"""The version page in a browser: a passing version offers "Promote to serving" and promotes with the keyboard;
a failing one shows why and offers only the forced promotion, which refuses an empty reason and keeps one."""
import pytest

from labelstudio_app.evaluation.models import ServingChange
from tests.evaluation.gate_data import judged_round, lineage


@pytest.fixture
def manager_page(e2e):
    """The manager, logged in through the login form, on a page that waits up to a minute: these pages load
    on a shared 2-core machine where a loaded browser can miss the usual 15 s."""
    page = e2e.new_page()
    page.context.set_default_timeout(60_000)
    page.context.set_default_navigation_timeout(60_000)
    e2e.login(page, e2e.world.users["manager"].username)
    return page


def _detail(project, mv) -> str:
    return f"/projects/{project.pk}/models/{mv.pk}/"


def test_it_promotes_a_passing_version_from_its_page(e2e, manager_page):
    world = e2e.world
    parent, child = lineage(world.project)
    judged_round(world.project, child, "w" * 32 + "l" * 8)
    page = manager_page
    page.goto(_detail(world.project, child))
    page.wait_for_selector("text=Passed: this version may be promoted.")
    assert page.locator(".gate-check.failed").count() == 0
    e2e.shot(page, "passing")
    page.locator("button.gate-promote").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector(".serving-badge")
    assert page.locator("button.gate-promote").count() == 0
    assert page.locator(".serving-history .serving-promote").count() == 1
    assert ServingChange.objects.get().model_version == child
    e2e.shot(page, "promoted")

    page.goto(_detail(world.project, parent))
    assert page.locator("button.gate-promote").count() == 0  # no parent: the gate cannot pass it


def test_it_shows_why_a_version_failed_and_forces_it_only_with_a_reason(e2e, manager_page):
    e2e.allow_console(r"status of 422")  # the browser logs the refused form's 422 itself; the page shows why
    world = e2e.world
    _parent, child = lineage(world.project)
    judged_round(world.project, child, "w" * 20)
    page = manager_page
    page.goto(_detail(world.project, child))
    page.wait_for_selector("text=Not passed")
    failed = page.locator(".gate-check.failed")
    assert failed.count() == 1 and "20 judgments" in failed.inner_text()
    assert page.locator("button.gate-promote").count() == 0
    e2e.shot(page, "failing")
    page.get_by_role("button", name="Force the promotion past the gate").click()
    page.wait_for_selector("text=a reason is required")
    assert not ServingChange.objects.exists()
    page.get_by_label("Why force it (required, recorded with your name)").fill("演示要用 demo tomorrow")
    with page.expect_navigation():
        page.get_by_role("button", name="Force the promotion past the gate").click()
    page.wait_for_selector(".serving-badge")
    row = page.locator(".serving-history .serving-force")
    assert "演示要用 demo tomorrow" in row.inner_text() and "mia_manager" in row.inner_text()
    e2e.shot(page, "forced")
