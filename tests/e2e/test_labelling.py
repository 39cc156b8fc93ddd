"""An annotator labels 10 items with the keyboard only, in a real browser against gunicorn."""
from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.schema import schema_validate
from tests.e2e.payloads import ALL, assert_inert
from tests.labelling.factories import DEMO_SCHEMA, items_add


def _label_project(world, n: int):
    project = world.project
    project.label_schema = schema_validate(DEMO_SCHEMA)
    project.instructions = "按 1 / 2 / 3 选择。"
    project.save(update_fields=["label_schema", "instructions"])
    return items_add(project, n)


def _card_item(page) -> str | None:
    return page.locator("#label-card").get_attribute("data-item")


def test_it_labels_ten_items_with_the_keyboard_only(e2e, page_as):
    world = e2e.world
    items = _label_project(world, 12)
    page = page_as("annotator")
    page.goto(f"/projects/{world.project.pk}/label/")
    e2e.shot(page, "first-item")
    pressed = {}
    for n in range(10):
        item_id = _card_item(page)
        assert item_id, f"no item on the card at step {n}"
        key = "1" if n % 3 else "2"
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_function("id => { const c = document.querySelector('#label-card'); "
                               "return c && c.getAttribute('data-item') !== id; }", arg=item_id)
        pressed[int(item_id)] = {"1": "yes", "2": "no"}[key]
        if n in (0, 9):
            e2e.shot(page, f"after-{n + 1}")
    stored = {a.item_id: a.values["needs_context"] for a in
              Annotation.objects.filter(annotator=world.users["annotator"])}
    assert stored == pressed and len(stored) == 10
    assert "10 done by me" in page.inner_text("#label-progress")
    assert set(stored) <= {i.pk for i in items}

    # u goes back to the last labelled item, with the annotator's own answer shown
    page.keyboard.press("u")
    page.wait_for_function("() => document.querySelector('#label-card') && "
                           "document.querySelector('#label-card').innerText.includes('Editing')")
    e2e.shot(page, "back")
    assert int(_card_item(page)) in pressed


def test_it_shows_hostile_item_text_as_text_on_the_label_page(e2e, page_as):
    world = e2e.world
    _label_project(world, 0)
    from labelstudio_app.projects.models import Item

    Item.objects.create(project=world.project, text=ALL, task_type=ALL,
                        context=[{"sender": ALL, "text": ALL, "time": "2024-03-01 09:00:00"}])
    world.project.instructions = ALL
    world.project.save(update_fields=["instructions"])
    page = page_as("annotator")
    page.goto(f"/projects/{world.project.pk}/label/")
    page.wait_for_timeout(300)
    assert_inert(page)
    e2e.shot(page, "hostile-item")
