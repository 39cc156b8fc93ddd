"""The work queue: overlap, leases, skips, never twice to one annotator, constant queries."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from labelstudio_app.core.errors import Conflict
from labelstudio_app.labelling import services
from labelstudio_app.labelling.models import Annotation, Assignment
from labelstudio_app.projects.models import Item
from tests.labelling.factories import NO, YES, items_add, labelling_project

pytestmark = pytest.mark.django_db


def _take(project, user):
    return services.item_next_for_annotator(project=project, user=user)


def _expire_leases(project):
    past = timezone.now() - timedelta(minutes=1)
    Assignment.objects.filter(project=project, state="leased").update(leased_until=past, leased_at=past)


def test_it_hands_each_item_to_at_most_overlap_annotators_and_never_twice_to_one():
    project, users = labelling_project(overlap=2, items=3, annotators=3)
    handed = {u.pk: [] for u in users}
    for _ in range(3):
        for u in users:
            item = _take(project, u)
            if item is not None:
                handed[u.pk].append(item.pk)
                services.annotation_submit(item=item, user=u, values=YES, time_spent_ms=10)
    for ids in handed.values():
        assert len(ids) == len(set(ids))  # never twice to one annotator
    per_item = {i.pk: i.annotations.count() for i in Item.objects.filter(project=project)}
    assert set(per_item.values()) == {2}  # overlap respected, every item covered
    assert sum(len(v) for v in handed.values()) == 6


def test_it_returns_the_same_item_on_reload_while_the_lease_lives():
    project, (ann,) = labelling_project(items=3, annotators=1)
    first = _take(project, ann)
    assert _take(project, ann) == first


def test_it_gives_an_expired_lease_to_someone_else():
    project, (a, b) = labelling_project(items=1, annotators=2)
    item = _take(project, a)
    assert _take(project, b) is None  # overlap 1: leased to a
    _expire_leases(project)
    assert _take(project, b) == item
    # a's lease ran out and b holds it now: a cannot submit it any more, and nothing is stored
    with pytest.raises(Conflict):
        services.annotation_submit(item=item, user=a, values=YES)
    assert not Annotation.objects.filter(item=item).exists()


def test_it_puts_skipped_items_at_the_back_for_that_annotator_only():
    project, (a, b) = labelling_project(items=3, annotators=2)
    i1 = Item.objects.filter(project=project).order_by("id").first()
    assert _take(project, a) == i1
    services.assignment_skip(item=i1, user=a)
    assert _take(project, b) == i1  # the skip freed a's slot: b gets it first
    services.annotation_submit(item=i1, user=b, values=NO)
    project2, (c,) = labelling_project(items=3, annotators=1)
    j1, j2, j3 = Item.objects.filter(project=project2).order_by("id")
    assert _take(project2, c) == j1
    services.assignment_skip(item=j1, user=c)
    order = []
    for _ in range(3):
        item = _take(project2, c)
        order.append(item)
        services.annotation_submit(item=item, user=c, values=YES)
    assert order == [j2, j3, j1]  # the skipped one comes back last
    assert _take(project2, c) is None


def test_it_edits_on_resubmit_and_moves_items_to_done_when_annotators_agree():
    project, (a, b) = labelling_project(overlap=2, items=1, annotators=2)
    item = _take(project, a)
    services.annotation_submit(item=item, user=a, values=NO, time_spent_ms=100)
    services.annotation_submit(item=item, user=a, values=YES, time_spent_ms=150)  # "u" then edit
    assert Annotation.objects.filter(item=item).count() == 1
    item.refresh_from_db()
    assert item.status == "open" and item.final_values is None
    assert _take(project, b) == item
    services.annotation_submit(item=item, user=b, values={**YES, "rewrite": "怎么把 mmpose 部署到 TX2？"})
    item.refresh_from_db()
    assert item.status == "done"
    assert item.final_values == {**YES, "rewrite": "怎么把 mmpose 部署到 TX2？"}


def test_it_leaves_disagreements_labelled_without_a_final_label():
    project, (a, b) = labelling_project(overlap=2, items=1, annotators=2)
    item = _take(project, a)
    services.annotation_submit(item=item, user=a, values=YES)
    services.annotation_submit(item=_take(project, b), user=b, values=NO)
    item.refresh_from_db()
    assert item.status == "labelled" and item.final_values is None


def test_it_refuses_a_bad_annotation_and_stores_nothing():
    project, (a,) = labelling_project(items=1, annotators=1)
    item = _take(project, a)
    with pytest.raises(ValidationError) as exc:
        services.annotation_submit(item=item, user=a, values={"needs_context": "maybe"})
    assert "needs_context" in exc.value.message_dict
    assert not Annotation.objects.exists()
    assert Assignment.objects.get().state == "leased"


def test_it_bounds_time_spent_by_the_lease_age():
    project, (a,) = labelling_project(items=1, annotators=1)
    item = _take(project, a)
    annotation = services.annotation_submit(item=item, user=a, values=YES, time_spent_ms=10**9)
    assert 0 < annotation.time_spent_ms <= services.TIME_SPENT_SLACK_MS + 5_000


def test_it_hands_gold_items_to_every_annotator_and_keeps_the_gold_answer_final():
    project, (a, b) = labelling_project(items=0, annotators=2)
    gold, = items_add(project, 1, is_gold=True, gold_values=YES)
    for u in (a, b):
        assert _take(project, u) == gold
        services.annotation_submit(item=gold, user=u, values=NO)
    gold.refresh_from_db()
    assert gold.final_values == YES and gold.annotations.count() == 2


@pytest.mark.parametrize("size", [20, 400])
def test_it_claims_and_submits_in_a_constant_number_of_queries(size, django_assert_num_queries):
    project, (a,) = labelling_project(items=size, annotators=1)
    items_add(project, size // 4, status="done")
    for _ in range(3):  # some history, so the counts are not those of an empty queue
        services.annotation_submit(item=_take(project, a), user=a, values=YES)
    with django_assert_num_queries(5):  # savepoint, held lease?, candidate (SKIP LOCKED), claim, release
        item = _take(project, a)
    with django_assert_num_queries(3):  # savepoint, held lease (reload-safe), release
        assert _take(project, a) == item
    item = Item.objects.select_related("project").get(pk=item.pk)
    with django_assert_num_queries(8):
        services.annotation_submit(item=item, user=a, values=YES, time_spent_ms=1200)


def test_it_refuses_to_annotate_an_item_never_handed_to_the_annotator(api_as, client_as):
    from django.urls import reverse

    project, (a, b) = labelling_project(overlap=2, items=2, annotators=2)
    held = services.item_next_for_annotator(project=project, user=a)
    other = Item.objects.exclude(pk=held.pk).get(project=project)
    # b was handed nothing; the item still has room, yet b may not label it by its id
    r = api_as(b).post(reverse("api-label-submit", kwargs={"item_id": held.pk}),
                       {"values": YES, "time_spent_ms": 500}, format="json")
    assert r.status_code == 409 and "not given to you" in r.json()["detail"]
    page = client_as(b).post(reverse("label-submit", kwargs={"project_id": project.pk, "item_id": other.pk}),
                             {"q_needs_context": "yes", "q_task_type": "deployment / edge"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "not given to you" in page.content.decode()
    # skipping an item by its id does not turn it into a claim either
    api_as(b).post(reverse("api-label-skip", kwargs={"item_id": other.pk}))
    r = api_as(b).post(reverse("api-label-submit", kwargs={"item_id": other.pk}),
                       {"values": YES, "time_spent_ms": 500}, format="json")
    assert r.status_code == 409
    assert not Annotation.objects.filter(annotator=b).exists()
    # the holder submits, then edits their annotation: both allowed
    for values in (YES, NO):
        r = api_as(a).post(reverse("api-label-submit", kwargs={"item_id": held.pk}),
                           {"values": values, "time_spent_ms": 500}, format="json")
        assert r.status_code == 201
    assert Annotation.objects.get(annotator=a).values == NO
