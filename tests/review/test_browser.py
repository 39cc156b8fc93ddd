"""The review page in a real browser (gunicorn + Chromium), keyboard only: score, prefer, submit, next."""
import pytest

from labelstudio_app.review import services
from labelstudio_app.review.models import Judgment
from tests.review.factories import review_setup

pytestmark = pytest.mark.e2e


def test_it_reviews_with_the_keyboard_and_swaps_in_the_next(e2e, page_as):
    world = e2e.world
    mv_a, mv_b, items = review_setup(world.project, n_items=2)
    services.round_create(project=world.project, user=world.users["manager"], name="kbd", model_a=mv_a, model_b=mv_b,
                          items=items)
    page = page_as("reviewer")
    page.goto(f"/projects/{world.project.pk}/review/")
    first_id = page.locator("[data-review-form]").get_attribute("action")
    page.keyboard.press("?")
    assert page.locator("#review-help").is_visible()
    e2e.shot(page, "help")
    page.keyboard.press("Escape")
    assert not page.locator("#review-help").is_visible()
    for key in "543215":  # Left: 5 4 3, Right: 2 1 5
        page.keyboard.press(key)
    page.keyboard.press("r")
    page.keyboard.press("Enter")
    page.wait_for_function("a => document.querySelector('[data-review-form]') && "
                           "document.querySelector('[data-review-form]').getAttribute('action') !== a", arg=first_id)
    e2e.shot(page, "next")
    assert "Saved." in page.inner_text("#review-card")
    j = Judgment.objects.get()
    left, right = ("a", "b") if j.comparison.left_is_a else ("b", "a")
    assert getattr(j, f"{left}_helpfulness") == 5 and getattr(j, f"{left}_harmlessness") == 3
    assert getattr(j, f"{right}_helpfulness") == 2 and getattr(j, f"{right}_harmlessness") == 5
    assert j.preference == right
    page.keyboard.press("s")
    page.wait_for_selector("text=Nothing left to review")
