"""Authentication on every API URL; 404 for another project's objects, built from the URLconf and the RULES."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labelstudio_app.accounts.models import Membership
from tests.conftest import World
from tests.factories import ProjectFactory, UserFactory
from tests.security.matrix import RULES, URLS, request, rule_for, world_with_objects
from tests.test_permissions import MODULES

API_NAMES = sorted(n for n in URLS if n and n.startswith("api-"))
PUBLIC_API = {n for n in API_NAMES if RULES.get(n) and RULES[n].public}
PROJECT_URLS = sorted(n for n, pattern in URLS.items() if n and "<int:project_id>" in pattern)
OBJECT_URLS = sorted(n for n, pattern in URLS.items() if n and "<" in pattern)


def test_it_lists_the_api_urls_it_checks():
    # A handful of the API exists from the foundation; this grows with every domain.
    assert {"api-job-list", "api-job-detail", "api-schema"} <= set(API_NAMES)
    assert {"api-token"} >= PUBLIC_API, f"only the token exchange may be public: {sorted(PUBLIC_API)}"


@pytest.mark.parametrize("name", sorted(set(API_NAMES) - PUBLIC_API))
def test_it_requires_authentication_on_every_api_url(name, db):
    rule = rule_for(name)
    world = world_with_objects()
    for method in {rule.method, "get"}:
        client = APIClient()
        url = reverse(name, kwargs=rule.kwargs(world))
        r = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        if r.status_code == 405:
            continue
        assert r.status_code in (401, 403), (name, method, r.status_code)
        # A token that does not exist does not authenticate either.
        r = getattr(client, method)(url, HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
        assert r.status_code in (401, 403), (name, method, "bad token", r.status_code)


def _stranger(*, projects) -> object:
    """Holds every role in `projects`, and nothing else."""
    user = UserFactory(username="sam_stranger")
    for project in projects:
        for role in Membership.Role.values:
            Membership.objects.get_or_create(user=user, project=project, role=role)
    return user


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_it_answers_404_for_objects_of_a_project_the_user_is_not_in(name, db):
    """Someone with every role in another project gets 404 (not 403, not 200) for this project's objects."""
    rule = rule_for(name)
    world = world_with_objects()
    stranger = _stranger(projects=[ProjectFactory(name="elsewhere")])
    client = APIClient()
    client.force_login(stranger)
    r = request(client, name, rule, world)
    assert r.status_code == 404, (name, r.status_code, r.content[:300])


def _second_world(world: World) -> World:
    """The same personas as members of a second project, with the domains' objects made in it."""
    other = World(project=ProjectFactory(name="第二个项目 second"), users=world.users)
    for role in ("manager", "annotator", "reviewer"):
        Membership.objects.create(user=world.users[role], project=other.project, role=role)
    for m in MODULES:
        if hasattr(m, "setup"):
            m.setup(other)
    return other


MIXED_URLS = sorted(n for n in PROJECT_URLS if URLS[n].count("<") > 1)


@pytest.mark.parametrize("name", MIXED_URLS)
def test_it_answers_404_when_an_object_id_belongs_to_another_project_of_the_user(name, db):
    """/projects/A/…/<id of an object in project B>/: the user may see both, the pair still does not exist."""
    rule = rule_for(name)
    world = world_with_objects()
    other = _second_world(world)
    kwargs = {**rule.kwargs(other), "project_id": world.project.pk}
    if kwargs == rule.kwargs(world):
        pytest.skip("the domain's setup made no object of its own for this URL")
    persona = "admin" if "admin" in rule.allowed else min(rule.allowed)
    client = APIClient()
    client.force_login(world.users[persona])
    r = request(client, name, rule, world, kwargs=kwargs)
    assert r.status_code == 404, (name, persona, kwargs, r.status_code, r.content[:300])
