"""A work queue must never keep handing someone work that submitting then refuses (a livelock).

Found by bench/load.py and bench/faults.py: reviewers stuck on 409 "This comparison already has all the
judgments it needs." for ever. The deterministic path here: a reviewer's lease runs out, another reviewer
takes and judges the comparison, the first comes back.
"""
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from labelstudio_app.accounts.models import Membership
from labelstudio_app.review import services
from labelstudio_app.review.models import ComparisonClaim
from tests.factories import UserFactory
from tests.review.factories import review_setup

SCORES = {f"{s}_{d}": 3 for s in ("left", "right") for d in ("helpfulness", "honesty", "harmlessness")}


def test_it_does_not_hand_back_a_comparison_that_others_finished_after_the_lease_ran_out(world, api_as):
    project = world.project
    mv_a, mv_b, items = review_setup(project, n_items=2)
    services.round_create(project=project, user=world.users["manager"], name="liveness", model_a=mv_a,
                          model_b=mv_b, items=items, overlap=1)
    first, second = world.users["reviewer"], UserFactory(username="rita_reviewer")
    Membership.objects.create(user=second, project=project, role="reviewer")
    url_next = reverse("api-review-next", kwargs={"project_id": project.pk})

    card = api_as(first).get(url_next).json()  # the first reviewer takes a comparison and walks away
    ComparisonClaim.objects.filter(reviewer=first).update(expires_at=timezone.now() - timedelta(minutes=1))
    taken = api_as(second).get(url_next).json()
    assert taken["public_id"] == card["public_id"]  # the expired lease freed it for someone else
    r = api_as(second).post(reverse("api-review-submit", kwargs={"project_id": project.pk,
                                                                "public_id": taken["public_id"]}),
                            {**SCORES, "preference": "tie"}, format="json")
    assert r.status_code == 201

    # The first reviewer comes back: whatever the queue hands out now, submitting it must be accepted.
    for _ in range(3):
        r = api_as(first).get(url_next)
        if r.status_code == 204:
            break
        public_id = r.json()["public_id"]
        r = api_as(first).post(reverse("api-review-submit", kwargs={"project_id": project.pk, "public_id": public_id}),
                               {**SCORES, "preference": "left"}, format="json")
        assert r.status_code == 201, ("the queue handed out a comparison it then refuses", public_id, r.json())


def test_it_moves_an_annotator_on_when_their_expired_item_was_labelled_by_someone_else(world, api_as):
    from labelstudio_app.labelling.models import Annotation, Assignment
    from labelstudio_app.projects.schema import schema_validate
    from tests.labelling.factories import DEMO_SCHEMA, items_add

    project = world.project
    project.label_schema, project.overlap = schema_validate(DEMO_SCHEMA), 1
    project.save(update_fields=["label_schema", "overlap"])
    items_add(project, 2)
    first, second = world.users["annotator"], UserFactory(username="anna_annotator")
    Membership.objects.create(user=second, project=project, role="annotator")
    url_next = reverse("api-label-next", kwargs={"project_id": project.pk})

    held = api_as(first).post(url_next, {}, format="json").json()["item"]
    Assignment.objects.filter(annotator=first).update(leased_until=timezone.now() - timedelta(minutes=1))
    taken = api_as(second).post(url_next, {}, format="json").json()["item"]
    assert taken["id"] == held["id"]
    submit = reverse("api-label-submit", kwargs={"item_id": held["id"]})
    assert api_as(second).post(submit, {"values": {"needs_context": "yes"}}, format="json").status_code == 201

    # The first annotator's stale submit is refused clearly, and the queue moves them on.
    r = api_as(first).post(submit, {"values": {"needs_context": "no"}}, format="json")
    assert r.status_code == 409 and r.json()["detail"]
    nxt = api_as(first).post(url_next, {}, format="json").json()["item"]
    assert nxt is not None and nxt["id"] != held["id"]
    r = api_as(first).post(reverse("api-label-submit", kwargs={"item_id": nxt["id"]}),
                           {"values": {"needs_context": "no"}}, format="json")
    assert r.status_code == 201
    assert Annotation.objects.filter(item_id=held["id"]).count() == 1
