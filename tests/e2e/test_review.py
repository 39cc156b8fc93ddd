"""A reviewer completes 5 blind comparisons with the keyboard; neither the page nor its HTML source names
a model. Hostile candidate text shows as text."""
from labelstudio_app.evaluation.models import Candidate
from labelstudio_app.review import services
from labelstudio_app.review.models import Judgment
from tests.e2e.payloads import ALL, SCRIPT, assert_inert
from tests.review.factories import review_setup


def _secrets(mv_a, mv_b) -> list[str]:
    out = []
    for mv in (mv_a, mv_b):
        out += [mv.name, mv.base_model, mv.adapter_path, f"model_version={mv.pk}", f'"model_version": {mv.pk}']
    for c in Candidate.objects.filter(model_version__in=[mv_a, mv_b]):
        out += [f"candidate/{c.pk}", f"candidate_{c.pk}", str(c.latency_ms), str(c.completion_tokens)]
    return [s for s in out if s]


def _form_action(page) -> str | None:
    form = page.locator("[data-review-form]")
    return form.get_attribute("action") if form.count() else None


def test_it_completes_five_blind_comparisons_with_the_keyboard(e2e, page_as):
    world = e2e.world
    mv_a, mv_b, items = review_setup(world.project, n_items=5)
    services.round_create(project=world.project, user=world.users["manager"], name="blind 5", model_a=mv_a,
                          model_b=mv_b, items=items)
    secrets = _secrets(mv_a, mv_b)
    page = page_as("reviewer")
    url = f"/projects/{world.project.pk}/review/"
    page.goto(url)
    for n in range(5):
        action = _form_action(page)
        assert action, f"no comparison on the page at step {n}"
        # What the browser shows and what the server sent (the HTML source) never name a model.
        source = page.request.get(page.url).text() if n == 0 else page.content()
        for text in (page.content(), source):
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"model identity in the page at step {n}: {leaked}"
        for key in "453324":
            page.keyboard.press(key)
        page.keyboard.press("l" if n % 2 else "r")
        page.keyboard.press("Enter")
        page.wait_for_function("a => { const f = document.querySelector('[data-review-form]'); "
                               "return !f || f.getAttribute('action') !== a; }", arg=action)
        e2e.shot(page, f"after-{n + 1}")
    page.wait_for_selector("text=Nothing left to review")
    judgments = Judgment.objects.filter(reviewer=world.users["reviewer"])
    assert judgments.count() == 5
    for j in judgments:
        left, right = ("a", "b") if j.comparison.left_is_a else ("b", "a")
        assert (getattr(j, f"{left}_helpfulness"), getattr(j, f"{right}_harmlessness")) == (4, 4)
    assert {j.preference for j in judgments} <= {"a", "b"}  # l / r picked a side every time


def test_it_shows_hostile_candidate_text_as_text(e2e, page_as):
    world = e2e.world
    mv_a, mv_b, items = review_setup(world.project, n_items=1, texts=[(ALL, f"{SCRIPT} 第二个回答")])
    items[0].text = ALL
    items[0].save(update_fields=["text"])
    services.round_create(project=world.project, user=world.users["manager"], name=ALL, model_a=mv_a,
                          model_b=mv_b, items=items)
    page = page_as("reviewer")
    page.goto(f"/projects/{world.project.pk}/review/")
    page.wait_for_timeout(300)
    assert_inert(page)
    e2e.shot(page, "hostile-candidates")
    manager = page_as("manager")
    manager.goto(f"/projects/{world.project.pk}/rounds/")
    manager.wait_for_timeout(300)
    assert_inert(manager)
    e2e.shot(manager, "hostile-round-name")


def test_it_says_identical_answers_are_a_tie_and_counts_what_is_left(e2e, page_as):
    world = e2e.world
    mv_a, mv_b, items = review_setup(world.project, n_items=2, texts=[("一样的回答", "一样的回答"), ("一样的回答", "一样的回答")])
    services.round_create(project=world.project, user=world.users["manager"], name="Marmoset vs Narwhal",
                          model_a=mv_a, model_b=mv_b, items=items)
    page = page_as("reviewer")
    page.goto(f"/projects/{world.project.pk}/review/")
    assert "judge them as a tie" in page.inner_text("#review-identical")
    assert page.inner_text("#review-left") == "2 comparisons left for you in this round (this one included)."
    e2e.shot(page, "identical-2-left")
    action = _form_action(page)
    for key in "333333t":
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_function("a => document.querySelector('[data-review-form]').getAttribute('action') !== a",
                           arg=action)
    assert page.inner_text("#review-left").startswith("1 comparison left")
    e2e.shot(page, "identical-1-left")
    assert not [s for s in [*_secrets(mv_a, mv_b), "Marmoset", "Narwhal"] if s in page.content()]
