"""Property tests: any schema or annotation either validates exactly or fails with a message naming what is
wrong — never an unexpected exception, never a 500, never a half-stored change."""
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelstudio_app.demo.seed import LABEL_SCHEMA
from labelstudio_app.projects.schema import annotation_validate, schema_validate

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10), st.floats(allow_nan=False, width=16),
                    st.text(max_size=6), st.sampled_from(["yes", "no", "1", "r", "deployment / edge", "需要"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
KINDS = ["single_choice", "multi_choice", "task_type", "rating", "text", "flags", "bogus"]
FIELDS = ["name", "kind", "label", "options", "taxonomy", "min", "max", "max_length", "required"]
options = st.lists(st.fixed_dictionaries({}, optional={
    "value": scalars, "label": scalars, "key": st.one_of(scalars, st.sampled_from(["1", "2", "s", "?", "ab"]))}),
    max_size=4)
question = st.fixed_dictionaries({}, optional={
    "name": st.one_of(scalars, st.sampled_from(["q", "needs_context", "a b", "x" * 80])),
    "kind": st.sampled_from(KINDS), "label": scalars, "options": st.one_of(options, json_values),
    "taxonomy": st.one_of(st.dictionaries(st.text(max_size=5), st.lists(st.text(max_size=5), max_size=3),
                                          max_size=3), json_values),
    "min": st.one_of(st.integers(-2, 6), scalars), "max": st.one_of(st.integers(-2, 6), scalars),
    "max_length": st.one_of(st.integers(-1, 10_000), scalars), "required": scalars})
schemas = st.one_of(st.lists(question, max_size=4), json_values)


def _message_names_a_place(exc: ValidationError) -> None:
    assert exc.messages and all(isinstance(m, str) and m.strip() for m in exc.messages)


@settings(max_examples=300, deadline=None)
@given(schemas)
def test_it_validates_any_schema_or_says_what_is_wrong(schema):
    try:
        normalised = schema_validate(schema)
    except ValidationError as exc:
        _message_names_a_place(exc)
        return
    assert schema_validate(normalised) == normalised  # a valid schema stays valid, unchanged


values = st.one_of(json_values, st.dictionaries(
    st.sampled_from([q["name"] for q in LABEL_SCHEMA] + ["unknown"]),
    st.one_of(json_values, st.sampled_from(["yes", "no", "not_question", "deployment / edge", "usage / api"]),
              st.lists(st.sampled_from(["robust_prompt", "x"]), max_size=3)), max_size=5))


@settings(max_examples=300, deadline=None)
@given(values)
def test_it_validates_any_annotation_or_names_the_field(vals):
    schema = schema_validate(LABEL_SCHEMA)
    try:
        clean = annotation_validate(schema=schema, values=vals)
    except ValidationError as exc:
        _message_names_a_place(exc)
        return
    assert set(clean) <= {q["name"] for q in schema}
    assert annotation_validate(schema=schema, values=clean) == clean


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=schemas)
def test_it_never_answers_500_to_a_schema_put_and_keeps_the_old_schema_on_error(schema, api_as, world):
    world.project.label_schema = LABEL_SCHEMA
    world.project.save()
    url = reverse("api-label-schema", kwargs={"project_id": world.project.pk})
    r = api_as(world.users["manager"]).put(url, data=json.dumps({"label_schema": schema}), content_type="application/json")
    assert r.status_code in (200, 400), r.content[:300]
    world.project.refresh_from_db()
    if r.status_code == 400:
        assert world.project.label_schema == LABEL_SCHEMA
