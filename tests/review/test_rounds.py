"""Rounds, the blind queue and judgments, on stored state."""
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from labelstudio_app.core.errors import Conflict
from labelstudio_app.evaluation.models import Candidate
from labelstudio_app.review import services
from labelstudio_app.review.models import Comparison, ComparisonClaim, Judgment
from tests.factories import ItemFactory, UserFactory
from tests.review.access import SCORES
from tests.review.factories import CandidateFactory, ModelVersionFactory, lease, review_setup

pytestmark = pytest.mark.django_db


def _round(world, n_items=4, **kwargs):
    mv_a, mv_b, items = review_setup(world.project, n_items=n_items, with_b=kwargs.pop("with_b", True))
    kwargs.setdefault("overlap", 1)
    rnd = services.round_create(project=world.project, user=world.users["manager"], name="r", model_a=mv_a,
                                model_b=mv_b, items=items, **kwargs)
    return rnd, mv_a, mv_b, items


def test_it_balances_left_and_right_over_a_round(world):
    rnd, *_ = _round(world, n_items=40)
    sides = list(rnd.comparisons.values_list("left_is_a", flat=True))
    assert len(sides) == 40 and sides.count(True) == 20
    assert 0 < sides[:20].count(True) < 20  # shuffled, not in blocks


def test_it_keeps_balance_when_building_again_fills_gaps(world):
    rnd, mv_a, mv_b, _items = _round(world, n_items=5)
    for _i in range(6):  # answers that arrive later, e.g. after generation
        item = ItemFactory(project=world.project)
        CandidateFactory(item=item, model_version=mv_a)
        CandidateFactory(item=item, model_version=mv_b)
        rnd.item_ids.append(item.pk)
    rnd.save(update_fields=["item_ids"])
    summary = services.round_build(round_id=rnd.pk)
    services.round_build(round_id=rnd.pk)
    sides = list(rnd.comparisons.values_list("left_is_a", flat=True))
    assert summary["comparisons"] == 11 == len(sides)
    assert sides.count(True) in (5, 6)


def test_it_keeps_left_and_right_on_reload(world, client_as):
    _rnd, *_ = _round(world, n_items=3)
    client = client_as(world.users["reviewer"])
    first = client.get(reverse("review-next", kwargs={"project_id": world.project.pk})).content.decode()
    again = client.get(reverse("review-next", kwargs={"project_id": world.project.pk})).content.decode()
    claim = ComparisonClaim.objects.get(reviewer=world.users["reviewer"])
    c = claim.comparison
    left = c.candidate_a.text if c.left_is_a else c.candidate_b.text
    right = c.candidate_b.text if c.left_is_a else c.candidate_a.text
    for page in (first, again):
        assert c.public_id in page
        assert page.index(left) < page.index(right)


@pytest.mark.parametrize(("left_is_a", "submitted", "stored"), [
    (False, "left", "b"), (False, "right", "a"), (True, "left", "a"), (True, "right", "b"),
    (False, "tie", "tie"), (True, "both_bad", "both_bad")])
def test_it_maps_left_and_right_back_to_a_and_b(world, left_is_a, submitted, stored):
    rnd, *_ = _round(world, n_items=1)
    c = rnd.comparisons.get()
    Comparison.objects.filter(pk=c.pk).update(left_is_a=left_is_a)
    c.refresh_from_db()
    scores = {"left_helpfulness": 5, "left_honesty": 4, "left_harmlessness": 3,
              "right_helpfulness": 1, "right_honesty": 2, "right_harmlessness": 2}
    lease(c, world.users["reviewer"])
    j = services.judgment_submit(comparison=c, user=world.users["reviewer"], scores=scores, preference=submitted)
    j.refresh_from_db()
    assert j.preference == stored
    a_side = "left" if left_is_a else "right"
    b_side = "right" if left_is_a else "left"
    assert (j.a_helpfulness, j.a_honesty, j.a_harmlessness) == tuple(scores[f"{a_side}_{d}"] for d in services.DIMENSIONS)
    assert (j.b_helpfulness, j.b_honesty, j.b_harmlessness) == tuple(scores[f"{b_side}_{d}"] for d in services.DIMENSIONS)


def test_it_never_hands_a_reviewer_the_same_comparison_twice(world):
    _rnd, *_ = _round(world, n_items=3, overlap=2)
    seen = []
    user = world.users["reviewer"]
    while (c := services.comparison_claim_next(project=world.project, user=user)) is not None:
        assert c.pk not in seen
        seen.append(c.pk)
        services.judgment_submit(comparison=c, user=user, scores={k: 3 for k in services.SCORE_FIELDS}, preference="tie")
    assert len(seen) == 3


def test_it_leases_so_reviewers_do_not_pile_beyond_the_overlap(world):
    _rnd, *_ = _round(world, n_items=2, overlap=1)
    r1, r2, r3 = world.users["reviewer"], UserFactory(), UserFactory()
    c1 = services.comparison_claim_next(project=world.project, user=r1)
    c2 = services.comparison_claim_next(project=world.project, user=r2)
    assert c1.pk != c2.pk
    assert services.comparison_claim_next(project=world.project, user=r3) is None
    # a reload keeps the same comparison
    assert services.comparison_claim_next(project=world.project, user=r1).pk == c1.pk
    # a lease that ran out returns the comparison to the queue
    ComparisonClaim.objects.filter(reviewer=r2).update(expires_at="2000-01-01T00:00:00Z")
    assert services.comparison_claim_next(project=world.project, user=r3).pk == c2.pk


def test_it_refuses_a_judgment_beyond_the_overlap_and_answers_a_second_one_as_the_first(world):
    rnd, *_ = _round(world, n_items=1, overlap=1)
    c = rnd.comparisons.get()
    scores = {k: 3 for k in services.SCORE_FIELDS}
    lease(c, world.users["reviewer"])
    first = services.judgment_submit(comparison=c, user=world.users["reviewer"], scores=scores, preference="left")
    again = services.judgment_submit(comparison=c, user=world.users["reviewer"], scores=scores, preference="right")
    assert again.pk == first.pk and again.preference == first.preference
    with pytest.raises(Conflict, match="all the judgments"):
        services.judgment_submit(comparison=c, user=world.users["manager"], scores=scores, preference="left")
    assert Judgment.objects.count() == 1 and Comparison.objects.get().judgments_count == 1


def test_it_compares_against_the_reference_answer(world):
    rnd, _mv_a, _, _items = _round(world, n_items=3, with_b=False)
    assert rnd.model_b is None and rnd.comparisons.count() == 3
    assert all(c.candidate_b_id is None for c in rnd.comparisons.all())


def test_it_skips_items_without_answers_and_says_so(world):
    mv_a, mv_b, items = review_setup(world.project, n_items=3)
    lonely = ItemFactory(project=world.project)
    CandidateFactory(item=lonely, model_version=mv_a)
    rnd = services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_b,
                                items=[*items, lonely])
    assert rnd.summary["comparisons"] == 3 and rnd.summary["missing_b"] == 1


def test_it_rejects_bad_rounds_with_a_clear_message(world):
    mv_a, mv_b, items = review_setup(world.project, n_items=1)
    other = ItemFactory()
    with pytest.raises(ValidationError, match="not in this project"):
        services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_b, items=[other])
    with pytest.raises(ValidationError, match="model_b"):
        services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_a, items=items)
    with pytest.raises(ValidationError, match=r"params.*temperature"):
        services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_b, items=items,
                              params={"temperature": "hot"})


def test_it_adds_gold_comparisons_and_scores_reviewers_on_them(world):
    from labelstudio_app.review.reports import round_statistics

    mv_a, mv_b, items = review_setup(world.project, n_items=3)
    extra = [ItemFactory(project=world.project, reference_answer=f"gold ref {i}") for i in range(2)]
    rnd = services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_b, items=items,
                                n_gold=2)
    gold = list(rnd.comparisons.filter(is_gold=True))
    assert len(gold) == 2 and {g.item_id for g in gold} == {e.pk for e in extra}
    assert all(g.gold_better == "b" and g.candidate_b_id is None and g.candidate_a.item_id != g.item_id for g in gold)
    user = world.users["reviewer"]
    for g in gold:
        right_side = "right" if g.left_is_a else "left"
        lease(g, user)
        services.judgment_submit(comparison=g, user=user, scores={k: 3 for k in services.SCORE_FIELDS},
                                 preference=right_side if g.pk == gold[0].pk else ("left" if right_side == "right" else "right"))
    st = round_statistics(round=rnd)
    assert st["judgments"] == 0  # gold is not part of the win rate
    assert st["reviewers"][0]["gold"] == 2 and st["reviewers"][0]["gold_accuracy"] == 0.5


def test_it_replaces_a_flagged_candidate_with_another_sample(world):
    rnd, _mv_a, mv_b, _items = _round(world, n_items=2)
    c = rnd.comparisons.order_by("id").first()
    spare = CandidateFactory(item=c.item, model_version=mv_b, sample_index=1, text="另一个样本 spare")
    assert services.candidate_exclude(comparison=c, side="b") == "replaced"
    c.refresh_from_db()
    assert c.candidate_b_id == spare.pk and not c.withdrawn
    assert Candidate.objects.filter(excluded=True).count() == 1


def test_it_withdraws_a_flagged_comparison_without_a_replacement(world):
    rnd, *_ = _round(world, n_items=2)
    c = rnd.comparisons.order_by("id").first()
    lease(c, world.users["manager"])
    services.judgment_submit(comparison=c, user=world.users["manager"], scores={k: 3 for k in services.SCORE_FIELDS},
                             preference="left")
    assert services.candidate_exclude(comparison=c, side="a") == "withdrawn"
    c.refresh_from_db()
    assert c.withdrawn and Judgment.objects.filter(comparison=c).count() == 1  # kept, out of the statistics
    seen = services.comparison_claim_next(project=world.project, user=world.users["reviewer"])
    assert seen.pk != c.pk
    with pytest.raises(Conflict, match="no longer open"):
        services.judgment_submit(comparison=c, user=world.users["reviewer"], scores={k: 3 for k in services.SCORE_FIELDS},
                                 preference="left")


def test_it_opens_a_generating_round_after_generation_idempotently(world):
    mv_a, mv_b, items = review_setup(world.project, n_items=3)
    rnd = services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_b, items=items)
    rnd.comparisons.all().delete()
    type(rnd).objects.filter(pk=rnd.pk).update(status="generating")
    services.round_open_after_generation(job=None, round_id=rnd.pk)
    services.round_open_after_generation(job=None, round_id=rnd.pk)
    rnd.refresh_from_db()
    assert rnd.status == "open" and rnd.comparisons.count() == 3


def test_it_submits_through_the_page_and_swaps_in_the_next(world, client_as):
    _round(world, n_items=2)
    client = client_as(world.users["reviewer"])
    url = reverse("review-next", kwargs={"project_id": world.project.pk})
    client.get(url)
    first = ComparisonClaim.objects.get(reviewer=world.users["reviewer"]).comparison
    r = client.post(reverse("review-submit", kwargs={"project_id": world.project.pk, "public_id": first.public_id}),
                    SCORES, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert "<html" not in body and 'id="review-card"' in body
    second = ComparisonClaim.objects.get(reviewer=world.users["reviewer"], state="open").comparison
    assert second.public_id in body and first.public_id not in body
    assert Judgment.objects.get().comparison_id == first.pk


def test_it_names_the_missing_score_on_a_bad_submission(world, client_as):
    _round(world, n_items=1)
    client = client_as(world.users["reviewer"])
    client.get(reverse("review-next", kwargs={"project_id": world.project.pk}))
    c = Comparison.objects.get()
    data = {k: v for k, v in SCORES.items() if k != "right_honesty"}
    r = client.post(reverse("review-submit", kwargs={"project_id": world.project.pk, "public_id": c.public_id}), data,
                    HTTP_HX_REQUEST="true")
    assert "Right · Honesty" in r.content.decode()
    assert not Judgment.objects.exists()


def test_it_serves_the_next_comparison_in_few_queries(world, client_as, django_assert_max_num_queries):
    _round(world, n_items=20, overlap=3)
    client = client_as(world.users["reviewer"])
    url = reverse("review-next", kwargs={"project_id": world.project.pk})
    client.get(url)
    with django_assert_max_num_queries(10):  # 9, and the count of comparisons left in the round
        r = client.get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200


def test_it_creates_a_round_through_the_api_from_a_held_out_list(world, api_as):
    mv_a, mv_b, items = review_setup(world.project, n_items=4)
    r = api_as(world.users["manager"]).post(
        reverse("api-round-list", kwargs={"project_id": world.project.pk}),
        {"name": "held out", "model_a": mv_a.pk, "model_b": mv_b.pk, "item_ids": ["ext-1", str(items[3].pk)],
         "overlap": 2}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["n_comparisons"] == 2 and sorted(r.json()["item_ids"]) == [items[1].pk, items[3].pk]
    bad = api_as(world.users["manager"]).post(
        reverse("api-round-list", kwargs={"project_id": world.project.pk}),
        {"name": "x", "model_a": mv_a.pk, "item_ids": ["nope-9"]}, format="json")
    assert bad.status_code == 400 and "nope-9" in bad.content.decode()


def test_it_serves_gold_comparisons_at_random_places_not_all_last(world):
    mv_a, mv_b, items = review_setup(world.project, n_items=20)
    for i in range(5):
        ItemFactory(project=world.project, reference_answer=f"gold ref {i}")
    services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=mv_b, items=items,
                          n_gold=5, overlap=2)
    user = world.users["reviewer"]
    served = []
    while (c := services.comparison_claim_next(project=world.project, user=user)) is not None:
        served.append(c.is_gold)
        services.judgment_submit(comparison=c, user=user, scores={k: 3 for k in services.SCORE_FIELDS},
                                 preference="tie")
    assert len(served) == 25 and sum(served) == 5
    # all five last by chance: 1 in 53,130
    assert served[-5:] != [True] * 5
    # the order is stored, so a second reviewer meets the gold checks at the same places
    other = world.users["manager"]
    again = []
    while (c := services.comparison_claim_next(project=world.project, user=other)) is not None:
        again.append(c.is_gold)
        services.comparison_skip(comparison=c, user=other)
    assert again == served


@pytest.mark.parametrize("odd", ["²", "99999999999999999999999"])
def test_it_refuses_ids_that_only_look_numeric_with_400(world, api_as, odd):
    mv_a, _mv_b, _items = review_setup(world.project, n_items=2)
    r = api_as(world.users["manager"]).post(
        reverse("api-round-list", kwargs={"project_id": world.project.pk}),
        {"name": "x", "model_a": mv_a.pk, "item_ids": [odd]}, format="json")
    assert r.status_code == 400 and odd in r.json()["errors"]["items"][0]


def test_it_refuses_a_round_where_one_side_has_no_answers_with_a_clear_message(world, client_as):
    mv_a, mv_b, items = review_setup(world.project, n_items=2)
    silent = ModelVersionFactory(project=world.project, name="silent")
    with pytest.raises(ValidationError, match="silent has no answers for the selected items yet"):
        services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=silent, items=items)
    with pytest.raises(ValidationError, match="silent has no answers"):
        services.round_create(project=world.project, user=None, name="r", model_a=silent, model_b=mv_b, items=items)
    bare = [ItemFactory(project=world.project) for _ in range(2)]
    for item in bare:
        CandidateFactory(item=item, model_version=mv_a)
    with pytest.raises(ValidationError, match="None of the selected items has a reference answer"):
        services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=None, items=bare)
    # Asking for generation is the way through: the round waits for the answers instead.
    rnd = services.round_create(project=world.project, user=None, name="r", model_a=mv_a, model_b=silent,
                                items=items, generate=True)
    assert rnd.status == "generating"


def test_the_round_form_proposes_the_newest_version_against_its_parent_and_generates_answers(world, client_as):
    parent = ModelVersionFactory(project=world.project, name="基座 base")
    ModelVersionFactory(project=world.project, name="other")
    child = ModelVersionFactory(project=world.project, name="base + LoRA", parent=parent)
    html = client_as(world.users["manager"]).get(
        reverse("round-list", kwargs={"project_id": world.project.pk})).content.decode()
    select_a = html[html.index('name="model_a"'):html.index("</select>", html.index('name="model_a"'))]
    select_b = html[html.index('name="model_b"'):html.index("</select>", html.index('name="model_b"'))]
    assert f'value="{child.pk}" selected' in select_a and f'value="{parent.pk}" selected' in select_b
    assert re.search(r'<input type="checkbox" name="generate"[^>]* checked', html)
