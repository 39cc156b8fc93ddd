"""Log in and out with the keyboard only, through the real form, against gunicorn."""
from tests.e2e.browser import real_password_hash
from tests.factories import PASSWORD


def test_it_logs_in_and_out_with_the_keyboard(e2e):
    real_password_hash("ann_annotator")
    page = e2e.new_page()
    page.goto("/")
    assert "/accounts/login/" in page.url  # anonymous users are sent to the login form
    e2e.shot(page, "login-form")
    # Focus the username field with the keyboard alone, then type, tab, type, Enter.
    page.get_by_label("Username").focus()
    page.keyboard.type("ann_annotator")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    e2e.shot(page, "filled")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" not in page.url
    assert page.get_by_text("ann_annotator").is_visible()
    assert page.get_by_role("link", name="演示项目 demo").is_visible()
    e2e.shot(page, "logged-in")

    logout = page.get_by_role("button", name="Log out")
    logout.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto("/")
    assert "/accounts/login/" in page.url
    e2e.shot(page, "logged-out")


def test_it_refuses_a_wrong_password_and_says_so(e2e):
    page = e2e.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ann_annotator")
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" in page.url
    assert "correct username and password" in page.inner_text("main")
    e2e.shot(page, "refused")
