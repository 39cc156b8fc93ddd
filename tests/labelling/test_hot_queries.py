"""The query counts of the two hot labelling endpoints, pinned: a regression (an N+1, a lost select_related, a
second access check) fails here before it shows in the latency bench (bench/api_latency.py)."""
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labelstudio_app.labelling.models import Annotation, Assignment
from tests.labelling.factories import YES, labelling_project

pytestmark = pytest.mark.django_db

# Inside the test's transaction every atomic block adds a SAVEPOINT and its RELEASE (2 of the counts below);
# under gunicorn they are BEGIN / COMMIT.
NEXT_QUERIES = 8  # token + user, project (scoped), the lease held, the next candidate, the claim, my count
SUBMIT_QUERIES = 10  # token + user, item (scoped), item lock, assignment, annotation upsert, assignment,
#                      the item's annotations, the item's new status


def annotator_client(user) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return c


def test_it_claims_the_next_item_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    project, (ann,) = labelling_project(items=200, annotators=1)
    c = annotator_client(ann)
    first = c.post(f"/api/projects/{project.pk}/next/").json()["item"]  # fills the cached project total
    assert c.post(f"/api/items/{first['id']}/annotation/", {"values": YES}, format="json").status_code == 201
    for _ in range(3):  # a fresh claim each time, deeper into the queue
        with django_assert_max_num_queries(NEXT_QUERIES):
            r = c.post(f"/api/projects/{project.pk}/next/")
        item = r.json()["item"]
        assert r.status_code == 200 and item is not None
        assert c.post(f"/api/items/{item['id']}/annotation/", {"values": YES}, format="json").status_code == 201
    assert r.json()["progress"]["mine"] == 3


def test_it_stores_a_submit_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    project, (ann,) = labelling_project(items=20, annotators=1)
    c = annotator_client(ann)
    for _ in range(3):
        item = c.post(f"/api/projects/{project.pk}/next/").json()["item"]
        with django_assert_max_num_queries(SUBMIT_QUERIES):
            r = c.post(f"/api/items/{item['id']}/annotation/", {"values": YES, "time_spent_ms": 900}, format="json")
        assert r.status_code == 201
    assert Annotation.objects.filter(annotator=ann).count() == 3
    assert Assignment.objects.filter(annotator=ann, state="submitted").count() == 3
