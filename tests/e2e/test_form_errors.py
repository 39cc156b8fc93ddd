"""An htmx form that fails validation shows its errors in place (htmx swaps 400/422 answers too)."""
import pytest

pytestmark = pytest.mark.e2e


def test_it_shows_validation_errors_of_an_htmx_form_in_place(e2e, page_as):
    e2e.allow_console(r"status of 422")  # the browser logs the 422 answer itself; the page handles it
    page = page_as("manager")
    page.goto(f"/projects/{e2e.world.project.pk}/audit/")
    form = page.locator("#new-run")
    # Skip the browser's own required-field check so the server's validation answers (422).
    page.eval_on_selector("#new-run", "f => { f.noValidate = true; }")
    form.get_by_role("button").click()
    page.wait_for_selector("#new-run .errorlist")
    e2e.shot(page, "errors-in-place")
    assert page.locator("header.topbar").count() == 1  # the fragment replaced the form, not a page inside it
    assert "required" in form.inner_text().lower()
