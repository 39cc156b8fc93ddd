"""The QA page and the schema's preview have the labelling page's keys (one key map, labelling/keys.py): pressed in
a real browser they choose the answers, QA's Enter accepts or saves the fix, a rating past 9 is typed digit by
digit, and each page's help lists exactly the keys that work there."""
import string

from labelstudio_app.labelling import services
from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.models import Item
from labelstudio_app.projects.schema import schema_validate
from tests.labelling.factories import DEMO_SCHEMA, items_add

SCORE = {"name": "score", "kind": "rating", "label": "Score", "min": 1, "max": 12}
SCHEMA = [*DEMO_SCHEMA, SCORE]
ANSWER = {"needs_context": "yes", "task_type": "deployment / edge", "score": 2}

# What a key press can change on a card: its answers, the picked question, the open panels, the help.
STATE_JS = """(sel) => {
  const card = document.querySelector(sel);
  const form = card.querySelector('form.label-form, form[hx-post]');
  const picked = card.querySelector('fieldset.lq.picked');
  return JSON.stringify({answers: [...new FormData(form)].filter(([k]) => k.startsWith('q_')),
                         picked: picked && picked.dataset.question,
                         open: [...card.querySelectorAll('details')].map(d => d.open),
                         help: !card.querySelector('#key-help').classList.contains('hidden')});
}"""
RESET_JS = """(sel) => {
  const card = document.querySelector(sel);
  card.querySelectorAll('form').forEach(f => f.reset());
  card.querySelectorAll('details[data-fix]').forEach(d => { d.open = false; });
}"""


def _qa_project(world, n: int) -> list[Item]:
    """n items labelled by the annotator, waiting for QA."""
    project = world.project
    project.label_schema = schema_validate(SCHEMA)
    project.qa_required = True
    project.save(update_fields=["label_schema", "qa_required"])
    items = items_add(project, n)
    annotator = world.users["annotator"]
    for _ in items:
        item = services.item_next_for_annotator(project=project, user=annotator)
        services.annotation_submit(item=item, user=annotator, values=ANSWER)
    return items


def _listed_and_working(e2e, page, card: str, *, leaving=()) -> tuple[set, set]:
    """The keys the help lists (top level) and the printable keys that change the card, tried one by one."""
    page.keyboard.press("?")
    listed = set(page.eval_on_selector_all(f"{card} #key-help [data-help-key]:not([data-help-scope])",
                                           "els => els.map(e => e.dataset.helpKey)"))
    page.keyboard.press("Escape")

    def effect(key: str) -> bool:
        before = page.evaluate(STATE_JS, card)
        page.keyboard.press(key)
        page.wait_for_timeout(30)
        after = page.evaluate(STATE_JS, card)
        page.evaluate(RESET_JS, card)
        page.keyboard.press("Escape")
        return after != before

    candidates = [k for k in string.ascii_letters + string.digits + "?!@#-=[];',./" if k not in leaving]
    return listed, {k for k in candidates if effect(k)}


def _checked(page, card: str, name: str) -> str | None:
    box = page.locator(f'{card} input[name="{name}"]:checked')
    return box.get_attribute("value") if box.count() else None


def test_it_accepts_and_fixes_in_qa_with_the_keyboard_only(e2e, page_as):
    world = e2e.world
    first, second = _qa_project(world, 2)
    page = page_as("reviewer")
    page.goto(f"/projects/{world.project.pk}/qa/")
    e2e.shot(page, "qa-first")
    card = "#qa-card"
    shown = page.locator(card).get_attribute("data-annotation")

    page.keyboard.press("Enter")  # accept the annotation as it is
    page.wait_for_function("id => document.querySelector('#qa-card').dataset.annotation !== id", arg=shown)
    first.refresh_from_db()
    assert (first.status, first.final_values) == ("done", ANSWER)

    # 3: not a question (the Fix panel opens), t 4: performance, g 1 1: score 11 (two digits), Enter: save the fix
    assert not page.locator(f"{card} details[data-fix]").evaluate("d => d.open")
    page.keyboard.type("3t4g11")  # one burst: the two digits come well within the rating's one-second window
    e2e.shot(page, "qa-fix-typed")
    assert page.locator(f"{card} details[data-fix]").evaluate("d => d.open")
    assert _checked(page, card, "q_score") == "11"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#qa-card').innerText.includes('Nothing is waiting')")
    e2e.shot(page, "qa-done")
    second.refresh_from_db()
    assert second.status == "done"
    assert {k: second.final_values.get(k) for k in ANSWER} == {
        "needs_context": "not_question", "task_type": "performance", "score": 11}
    assert Annotation.objects.get(item=second).status == "fixed"


def test_the_qa_help_lists_exactly_the_keys_that_work(e2e, page_as):
    world = e2e.world
    _qa_project(world, 1)
    page = page_as("reviewer")
    page.goto(f"/projects/{world.project.pk}/qa/")
    page.keyboard.press("?")
    e2e.shot(page, "qa-help")
    page.keyboard.press("Escape")
    listed, working = _listed_and_working(e2e, page, "#qa-card")
    assert "u" not in listed and "s" not in listed  # no skip or back in QA
    assert working == listed - {"Enter", "Escape"}, (sorted(working), sorted(listed))
    assert {"1", "2", "3", "t", "g", "r", "?"} <= working

    # Enter on the focused "Fix" summary opens the panel, as it does anywhere else; it accepts nothing
    page.locator("#qa-card details[data-fix] summary").focus()
    page.keyboard.press("Enter")
    assert page.locator("#qa-card details[data-fix]").evaluate("d => d.open")
    page.wait_for_timeout(300)
    assert Annotation.objects.get().status == "submitted"


def test_the_schema_preview_answers_keys_and_lists_exactly_those(e2e, page_as):
    world = e2e.world
    world.project.label_schema = schema_validate(SCHEMA)
    world.project.save(update_fields=["label_schema"])
    page = page_as("manager")
    page.goto(f"/projects/{world.project.pk}/label/schema/")
    card = ".schema-preview"
    # keys typed into the schema's JSON are text, never answers
    page.locator("textarea[name=label_schema]").focus()
    page.keyboard.press("End")
    page.keyboard.type("t1")
    assert _checked(page, card, "q_needs_context") is None
    page.keyboard.press("Escape")
    page.reload()

    for key in "1t21r":  # yes; task type: deployment / edge; the flag
        page.keyboard.press(key)
    assert _checked(page, card, "q_needs_context") == "yes"
    assert page.locator(f'{card} select[name="q_task_type"]').input_value() == "deployment / edge"
    assert page.locator(f'{card} input[name="q_flags"]').is_checked()
    # a score past 9: 1 then 2 within a second is 12; 1 alone is 1 once the second is over; 7 is 7 at once
    page.keyboard.type("g12")
    e2e.shot(page, "preview-score-12")
    assert _checked(page, card, "q_score") == "12"
    page.keyboard.press("g")
    page.keyboard.press("1")
    assert _checked(page, card, "q_score") == "1"
    page.wait_for_timeout(1300)
    page.keyboard.press("2")  # the window is over: 2 is needs_context "no", not score 12
    assert _checked(page, card, "q_score") == "1" and _checked(page, card, "q_needs_context") == "no"
    page.keyboard.press("g")
    page.keyboard.press("7")
    assert _checked(page, card, "q_score") == "7"
    assert not page.locator(f"{card} fieldset.picked").count()  # 7 cannot grow on 1-12: the question is done
    page.keyboard.press("Enter")  # nothing to submit on the preview: the page stays
    assert page.url.endswith("/label/schema/")

    page.reload()
    page.keyboard.press("?")
    e2e.shot(page, "preview-help")
    help_text = page.inner_text(f"{card} #key-help")
    assert "type the score (1–12) digit by digit" in help_text
    page.keyboard.press("Escape")
    listed, working = _listed_and_working(e2e, page, card)
    assert not {"u", "s", "Enter"} & listed
    assert working == listed - {"Escape"}, (sorted(working), sorted(listed))
    world.project.refresh_from_db()
    assert world.project.label_schema == schema_validate(SCHEMA)  # trying the keys saved nothing
