import copy

import pytest
from django.core.exceptions import ValidationError

from labelstudio_app.projects.schema import annotation_validate, schema_validate
from tests.labelling.factories import DEMO_SCHEMA


def _error(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    return " | ".join(exc.value.messages)


def test_it_accepts_the_demo_schema_and_fills_defaults():
    clean = schema_validate(DEMO_SCHEMA)
    assert [q["name"] for q in clean] == ["needs_context", "task_type", "rewrite", "flags"]
    assert clean[2]["required"] is False and clean[3]["label"] == "flags"


def test_it_names_the_question_and_field_of_a_duplicate_key():
    schema = copy.deepcopy(DEMO_SCHEMA)
    schema[0]["options"][1]["key"] = "1"
    assert _error(schema_validate, schema) == "question 1 (needs_context): option key '1' is used twice " \
        "(also by question 1 (needs_context) option 'yes')"


@pytest.mark.parametrize("change, message", [
    (lambda s: s[1].update(kind="dropdown"), "question 2 (task_type): 'kind' is 'dropdown'"),
    (lambda s: s[3]["options"][0].update(key="s"), "question 4 (flags): option key 's' is reserved"),
    (lambda s: s[3]["options"][0].update(key="1"), "question 4 (flags): option key '1' is used twice"),
    (lambda s: s[1].update(taxonomy=[]), "question 2 (task_type): 'taxonomy' must be a non-empty object"),
    (lambda s: s.append({"name": "score", "kind": "rating", "min": 5, "max": 1}),
     "question 5 (score): 'min' (5) must be below 'max' (1)"),
    (lambda s: s.append({"name": "score", "kind": "rating", "min": 1, "max": 10_000_000}),
     "question 5 (score): 'min' and 'max' must be between 0 and 100"),
    (lambda s: s.append({"name": "score", "kind": "rating", "min": -5_000_000, "max": 5}),
     "question 5 (score): 'min' and 'max' must be between 0 and 100"),
    (lambda s: s.append({"name": "needs_context", "kind": "text"}), "question 5 (needs_context): name"),
    (lambda s: s[0]["options"][0].pop("key"), "question 1 (needs_context): option 'yes' needs a 'key'"),
    (lambda s: s[2].update(max_length="long"), "question 3 (rewrite): 'max_length' must be an integer"),
])
def test_it_rejects_bad_schemas_naming_question_and_field(change, message):
    schema = copy.deepcopy(DEMO_SCHEMA)
    change(schema)
    assert message in _error(schema_validate, schema)


def test_it_normalises_a_valid_annotation():
    schema = schema_validate(DEMO_SCHEMA)
    clean = annotation_validate(schema=schema, values={
        "needs_context": "yes", "task_type": "deployment/edge", "rewrite": "  怎么把 mmpose 部署到 TX2？ ",
        "flags": ["robust_prompt"]})
    assert clean == {"needs_context": "yes", "task_type": "deployment / edge",
                     "rewrite": "怎么把 mmpose 部署到 TX2？", "flags": ["robust_prompt"]}
    assert annotation_validate(schema=schema, values={"needs_context": "no", "task_type": "performance"}) == {
        "needs_context": "no", "task_type": "performance"}


@pytest.mark.parametrize("values, field, message", [
    ({}, "needs_context", "needs_context: is required"),
    ({"needs_context": "maybe"}, "needs_context", "'maybe' is not one of yes, no, not_question"),
    ({"needs_context": "yes", "task_type": "deployment / cloud"}, "task_type", "'cloud' is not a sub-type"),
    ({"needs_context": "yes", "task_type": "deployment"}, "task_type", "choose a sub-type of 'deployment'"),
    ({"needs_context": "yes", "flags": ["nope"]}, "flags", "unknown option(s) nope"),
    ({"needs_context": "yes", "colour": "red"}, "colour", "is not a question"),
])
def test_it_names_the_field_of_a_bad_annotation(values, field, message):
    schema = schema_validate(DEMO_SCHEMA)
    with pytest.raises(ValidationError) as exc:
        annotation_validate(schema=schema, values=values)
    assert field in exc.value.message_dict and message in exc.value.message_dict[field][0]


def test_it_counts_characters_not_bytes_and_checks_ratings():
    schema = schema_validate([{"name": "q", "kind": "text", "max_length": 3},
                              {"name": "r", "kind": "rating", "min": 1, "max": 5}])
    assert annotation_validate(schema=schema, values={"q": "部署到", "r": "4"}) == {"q": "部署到", "r": 4}
    with pytest.raises(ValidationError) as exc:
        annotation_validate(schema=schema, values={"q": "部署到吗", "r": 6})
    assert set(exc.value.message_dict) == {"q", "r"}
    assert "4 characters long; the limit is 3" in exc.value.message_dict["q"][0]
