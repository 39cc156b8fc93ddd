"""The labelling page's key map: every key does one thing, and page keys are never taken by a question."""
from labelstudio_app.labelling.keys import page_keys
from labelstudio_app.projects.schema import schema_validate
from tests.labelling.factories import DEMO_SCHEMA

RATING = {"name": "clarity", "kind": "rating", "min": 0, "max": 12}


def _top_level_keys(keys: dict) -> list[str]:
    return [o["key"] for o in keys["options"]] + [q["key"] for q in keys["questions"]] + keys["page"]


def test_each_key_on_the_page_does_one_thing():
    keys = page_keys(schema_validate([*DEMO_SCHEMA, RATING]))
    top = _top_level_keys(keys)
    assert len(top) == len(set(top))
    assert {q["name"]: q["key"] for q in keys["questions"]} == {"task_type": "t", "clarity": "g"}


def test_a_question_letter_avoids_the_schema_own_keys():
    schema = [{"name": "kind", "kind": "single_choice",
               "options": [{"value": "a", "key": "t"}, {"value": "b", "key": "G"}]}, *DEMO_SCHEMA[1:2], RATING]
    keys = page_keys(schema_validate(schema))
    assert [q["key"] for q in keys["questions"]] == ["j", "k"]


def test_the_task_type_numbers_its_top_level_then_its_sub_types():
    task_type = page_keys(schema_validate(DEMO_SCHEMA))["questions"][0]
    assert [(lv["key"], lv["label"], [s["key"] for s in lv["subs"]]) for lv in task_type["levels"]] == [
        ("1", "concept", []), ("2", "deployment", ["1", "2"]), ("3", "install", ["1"]),
        ("4", "performance", []), ("5", "usage", ["1"])]
    assert task_type["levels"][1]["subs"][1]["value"] == "deployment / server"


def test_a_rating_is_typed_with_the_digits_its_scores_begin_with():
    rating = page_keys(schema_validate([RATING]))["questions"][0]
    assert (rating["min"], rating["max"], rating["digits"], rating["multi_digit"]) == (0, 12, list("0123456789"), True)
    small = page_keys(schema_validate([{"name": "r", "kind": "rating", "min": 1, "max": 5}]))["questions"][0]
    assert (small["digits"], small["multi_digit"]) == (list("12345"), False)
    high = page_keys(schema_validate([{"name": "r", "kind": "rating", "min": 10, "max": 30}]))["questions"][0]
    assert high["digits"] == ["1", "2", "3"]


def test_without_an_item_only_back_and_help_work():
    keys = page_keys(schema_validate(DEMO_SCHEMA), has_item=False)
    assert keys == {"mode": "label", "page": ["?", "u", "Escape"], "options": [], "questions": []}
    assert "s" not in page_keys(schema_validate(DEMO_SCHEMA), can_skip=False)["page"]


def test_qa_and_the_preview_have_the_answer_keys_without_skip_or_back():
    schema = schema_validate([*DEMO_SCHEMA, RATING])
    label = page_keys(schema)
    qa, preview = page_keys(schema, page="qa"), page_keys(schema, page="preview")
    assert qa["page"] == ["?", "Escape", "Enter"] and preview["page"] == ["?", "Escape"]
    for keys in (qa, preview):
        assert (keys["options"], keys["questions"]) == (label["options"], label["questions"])
    assert page_keys(schema, page="qa", has_item=False)["questions"] == []
