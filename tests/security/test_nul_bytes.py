"""NUL characters (PostgreSQL refuses them in text and jsonb) in any write never cause a 500.

For every write URL in the RULES, the domain's own valid request body is sent again with a NUL character
put into every string (values and keys), as the first persona allowed to write. The answer may be a 4xx
(refused, with a message) or a success with the NUL removed, never a server error.
"""
import pytest
from rest_framework.test import APIClient

from tests.security.matrix import (
    RULES,
    URLS,
    WRITE_METHODS,
    first_allowed,
    request,
    rule_for,
    world_with_objects,
)

WRITES = sorted(n for n in URLS if n and RULES.get(n) and RULES[n].method in WRITE_METHODS and RULES[n].data)


def _poison(value):
    if isinstance(value, str):
        return value + "\x00尾"
    if isinstance(value, dict):
        return {_poison(k) if isinstance(k, str) and k else k: _poison(v) for k, v in value.items()} | \
            {k: _poison(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v) for v in value]
    return value


@pytest.mark.parametrize("name", WRITES)
def test_it_never_answers_500_to_nul_characters(name, db):
    from dataclasses import replace

    rule = rule_for(name)
    world = world_with_objects()
    body = rule.data(world)
    if not body:
        pytest.skip("no body to poison")
    client = APIClient()
    client.force_login(world.users[first_allowed(rule)])
    poisoned = replace(rule, data=lambda w: _poison(body))
    r = request(client, name, poisoned, world)
    assert r.status_code < 500, (name, r.status_code, r.content[:300])


@pytest.mark.parametrize("field", ["metadata", "backend_options"])
def test_it_never_answers_500_to_nul_characters_in_model_version_json(field, world, api_as):
    from django.urls import reverse

    from labelstudio_app.evaluation.models import ModelVersion

    mv = ModelVersion.objects.create(project=world.project, name="hub model", base_model="Qwen/Qwen2.5-0.5B-Instruct")
    r = api_as(world.users["admin"]).patch(
        reverse("api-model-version-detail", kwargs={"project_id": world.project.pk, "model_version_id": mv.pk}),
        {field: {"note\x00": "a\x00b"}}, format="json")
    assert r.status_code < 500, (r.status_code, r.content[:300])
