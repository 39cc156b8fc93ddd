"""schemathesis against the OpenAPI schema, through the WSGI app, as a staff user with a token: no 5xx.

Every operation gets examples with the real ids of the world's objects (so the request reaches the code
behind the 404) and examples with whatever ids schemathesis draws. Positive and negative (invalid) data.
"""
import pytest
from django.core.signals import request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from tests.security.matrix import RULES, world_with_objects

EXAMPLES = 5  # per operation and mode; ~50 operations x 4 runs stay well under two minutes


def _openapi() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _real_ids(world) -> dict:
    ids = {}
    for rule in RULES.values():
        try:
            ids.update(rule.kwargs(world))
        except AttributeError:
            continue  # a domain whose setup hung nothing for this rule
    return ids


@pytest.fixture
def wsgi_in_test_transaction():
    """Calls the real WSGI app in-process; like Django's test client, keep the request signals from
    closing the test's connection."""
    from labelstudio_app.wsgi import application

    request_started.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)


def test_it_never_answers_5xx_to_generated_requests(db, wsgi_in_test_transaction):
    import schemathesis
    from rest_framework.authtoken.models import Token
    from schemathesis.generation import GenerationMode

    world = world_with_objects()
    token = Token.objects.create(user=world.users["admin"])
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_dict(_openapi())
    schema.app = wsgi_in_test_transaction
    ids = _real_ids(world)
    failures, calls = [], {"n": 0}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]

    for op in operations:
        names = {p.name for p in op.path_parameters}
        real = {k: v for k, v in ids.items() if k in names}
        strategies = [op.as_strategy(GenerationMode.POSITIVE, path_parameters=real or None),
                      op.as_strategy(GenerationMode.NEGATIVE, path_parameters=real or None),
                      op.as_strategy(GenerationMode.POSITIVE)]

        for strategy in strategies:
            try:
                _run_examples(op, strategy, headers, calls, failures)
            except Unsatisfiable:
                continue  # e.g. no invalid request exists when the only parameter is a fixed, real id
            except Exception as exc:
                failures.append(f"{op.label}: could not generate/call: {type(exc).__name__}: {str(exc)[:300]}")
    assert calls["n"] > len(operations)
    assert not failures, f"{len(failures)} of {calls['n']} requests failed:\n" + "\n".join(failures[:40])


def _run_examples(op, strategy, headers: dict, calls: dict, failures: list) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        calls["n"] += 1
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{op.label} {case.path_parameters} {case.query} {case.body!r:.200} -> "
                            f"{response.status_code}: {response.text[:300]}")

    run()


def test_it_serves_the_schema_to_authenticated_users_only(client, world):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(world.users["annotator"])
    r = client.get("/api/schema/")
    assert r.status_code == 200 and b"openapi" in r.content


_ = st  # hypothesis strategies stay importable for domain-specific extensions
