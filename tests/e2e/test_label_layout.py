"""The labelling page in a real browser: two columns on wide screens with Submit in view, task-type and rating
keys, a help overlay that lists exactly the keys that work, and one badge per speaker."""
import string

from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.models import Item
from labelstudio_app.projects.schema import schema_validate
from tests.labelling.factories import DEMO_SCHEMA

RATING = {"name": "clarity", "kind": "rating", "label": "Clarity", "min": 1, "max": 5}

# The form's answers, the picked question and the help's visibility: what a key press can change.
STATE_JS = """() => {
  const card = document.querySelector('#label-card');
  const form = card.querySelector('form.label-form');
  const picked = card.querySelector('fieldset.lq.picked');
  const level = picked ? [...picked.querySelectorAll('[data-tt-level]:not(.hidden)')].map(o => o.dataset.ttLevel) : [];
  return JSON.stringify({answers: [...new FormData(form)].filter(([k]) => k.startsWith('q_')),
                         picked: picked && picked.dataset.question, level,
                         help: !document.querySelector('#key-help').classList.contains('hidden'),
                         item: card.dataset.item});
}"""


def _project(world, n: int, *, context_turns: int = 2):
    project = world.project
    project.label_schema = schema_validate([*DEMO_SCHEMA, RATING])
    project.instructions = "按 1 / 2 / 3 选择。"
    project.save(update_fields=["label_schema", "instructions"])
    context = [{"sender": f"成员{i % 3}", "text": f"第 {i} 条消息：这个模型怎么部署？" * 3, "time": f"2024-03-01 09:{i:02d}:00"}
               for i in range(context_turns)]
    return Item.objects.bulk_create([Item(project=project, text=f"它能在 TX2 上跑吗？ #{i}", context=context)
                                     for i in range(n)])


def _next_item(page, item_id: str) -> None:
    page.wait_for_function("id => { const c = document.querySelector('#label-card'); "
                           "return c && c.getAttribute('data-item') !== id; }", arg=item_id)


def test_it_labels_a_task_type_and_a_rating_with_the_keyboard_only(e2e, page_as):
    world = e2e.world
    _project(world, 3)
    page = page_as("annotator")
    page.goto(f"/projects/{world.project.pk}/label/")
    # needs_context "yes", then t: task type, 2: deployment (top levels are alphabetical), 2: server; g: clarity, 4
    presses = [("1", "t", "2", "2", "g", "4"), ("2", "t", "4", "g", "2")]
    for n, keys in enumerate(presses):
        item_id = page.locator("#label-card").get_attribute("data-item")
        for i, key in enumerate(keys):
            page.keyboard.press(key)
            if n == 0 and i in (1, 2):
                e2e.shot(page, f"task-type-level-{i}")
        e2e.shot(page, f"answered-{n + 1}")
        page.keyboard.press("Enter")
        _next_item(page, item_id)
    stored = sorted((a.values for a in Annotation.objects.filter(annotator=world.users["annotator"])),
                    key=lambda v: v["needs_context"], reverse=True)
    assert [(v["needs_context"], v.get("task_type"), v.get("clarity")) for v in stored] == [
        ("yes", "deployment / server", 4), ("no", "performance", 2)]


def test_the_help_lists_exactly_the_keys_that_work(e2e, page_as):
    world = e2e.world
    _project(world, 2)
    page = page_as("annotator")
    page.goto(f"/projects/{world.project.pk}/label/")
    page.keyboard.press("?")
    e2e.shot(page, "help")
    listed = set(page.eval_on_selector_all("#key-help [data-help-key]:not([data-help-scope])",
                                           "els => els.map(e => e.dataset.helpKey)"))
    page.keyboard.press("Escape")

    def effect(key: str) -> bool:
        before = page.evaluate(STATE_JS)
        page.keyboard.press(key)
        after = page.evaluate(STATE_JS)
        page.evaluate("() => document.querySelector('form.label-form').reset()")
        page.keyboard.press("Escape")
        return after != before

    # every printable key except the ones that leave the card (skip, back) and Enter (submits), tried one by one
    leaving = {"s", "u"}
    candidates = [k for k in string.ascii_letters + string.digits + "?!@#-=[];',./" if k not in leaving]
    working = {k for k in candidates if effect(k)}
    assert working == listed - leaving - {"Enter", "Escape"}, (sorted(working), sorted(listed))
    assert {"t", "g", "1", "2", "3", "r", "?"} <= working

    # the number keys listed under the task type are the ones that act once it is picked
    scoped = page.eval_on_selector_all('#key-help [data-help-scope="task_type"][data-help-key]',
                                       "els => els.map(e => e.dataset.helpKey)")
    for key in "123456789":
        page.keyboard.press("t")
        before = page.evaluate(STATE_JS)
        page.keyboard.press(key)
        changed = page.evaluate(STATE_JS) != before
        page.evaluate("() => document.querySelector('form.label-form').reset()")
        page.keyboard.press("Escape")
        assert changed == (key in scoped), key


def test_wide_screens_show_the_context_beside_the_questions(e2e, page_as):
    world = e2e.world
    _project(world, 1, context_turns=10)
    page = page_as("annotator")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/projects/{world.project.pk}/label/")
    e2e.shot(page, "wide-1280x800")
    context = page.locator(".label-context").bounding_box()
    controls = page.locator(".label-controls").bounding_box()
    submit = page.locator('[data-action="submit"]').bounding_box()
    assert context["x"] + context["width"] <= controls["x"], "the context is not left of the questions"
    assert submit["y"] + submit["height"] <= 800, "Submit is below the fold at 1280x800"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.label-context')).overflowY") == "auto"

    page.set_viewport_size({"width": 900, "height": 800})
    e2e.shot(page, "narrow-900")
    context = page.locator(".label-context").bounding_box()
    controls = page.locator(".label-controls").bounding_box()
    assert context["y"] + context["height"] <= controls["y"], "narrow screens are not one column"


def test_each_speaker_badge_is_one_element_with_its_letter(e2e, page_as):
    world = e2e.world
    items = _project(world, 1, context_turns=4)
    badges_js = """() => [...document.querySelectorAll('.chat .speaker')].map(b => {
      const r = b.getBoundingClientRect();
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      const round = [...b.closest('.turn').querySelectorAll('*')].filter(
        e => getComputedStyle(e).borderRadius === '50%');
      return {text: b.textContent.trim(), children: b.children.length, square: Math.abs(r.width - r.height) < 1,
              hit: hit === b, circles: round.length, pseudo: getComputedStyle(b, '::before').content};
    })"""
    for who, path in (("annotator", f"/projects/{world.project.pk}/label/"),
                      ("manager", f"/projects/{world.project.pk}/items/{items[0].pk}/")):
        page = page_as(who)
        page.goto(path)
        badges = page.evaluate(badges_js)
        e2e.shot(page, f"speakers-{who}")
        assert len(badges) == 5, badges
        for b in badges:
            assert len(b["text"]) == 1 and b["children"] == 0 and b["square"] and b["hit"], b
            assert b["circles"] == 1 and b["pseudo"] in ("none", "normal"), b


def test_tab_into_a_rating_gives_its_number_keys_to_it(e2e, page_as):
    world = e2e.world
    _project(world, 1)
    page = page_as("annotator")
    page.goto(f"/projects/{world.project.pk}/label/")
    page.keyboard.press("2")  # needs_context: no
    for _ in range(40):  # Tab through the links and fields until the focus is on the rating
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name") == "q_clarity":
            break
    page.keyboard.press("3")
    e2e.shot(page, "tabbed-into-rating")
    assert page.locator('input[name="q_clarity"]:checked').get_attribute("value") == "3"
    assert page.locator('input[name="q_needs_context"]:checked').get_attribute("value") == "no"
