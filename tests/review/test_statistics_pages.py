"""Statistics pages, API and export on synthetic rounds: what a manager reads off them."""
import json

import numpy as np
import pytest
from django.urls import reverse

from labelstudio_app.review import services
from labelstudio_app.review.models import Judgment
from labelstudio_app.review.reports import project_statistics, round_statistics
from tests.factories import ItemFactory, UserFactory
from tests.review.factories import CandidateFactory, ModelVersionFactory, lease, review_setup

pytestmark = pytest.mark.django_db


def _judge_all(rnd, reviewers, choose):
    """Each reviewer judges every comparison of the round; choose(comparison) -> 'left'|'right'|'tie'|'both_bad'."""
    for c in rnd.comparisons.select_related("candidate_a", "candidate_b", "item").order_by("id"):
        for r in reviewers:
            lease(c, r)
            services.judgment_submit(comparison=c, user=r, scores={k: 3 for k in services.SCORE_FIELDS},
                                     preference=choose(c))


def _round(world, n, texts=None, overlap=1, name="r"):
    mv_a, mv_b, items = review_setup(world.project, n_items=n, texts=texts)
    return services.round_create(project=world.project, user=world.users["manager"], name=name, model_a=mv_a,
                                 model_b=mv_b, items=items, overlap=overlap)


def test_it_shows_position_bias_when_reviewers_always_pick_left(world, client_as):
    rnd = _round(world, 30)
    _judge_all(rnd, [world.users["reviewer"]], lambda c: "left")
    st = round_statistics(round=rnd)
    assert st["position_bias"]["overall"]["rate"] == 1.0 and st["position_bias"]["overall"]["p_value"] < 1e-6
    assert st["position_bias"]["per_reviewer"][0]["reviewer"] == "rey_reviewer"
    assert st["win_rate"]["rate"] == pytest.approx(0.5)  # balanced sides: left-always means A wins half
    page = client_as(world.users["manager"]).get(reverse("round-detail", kwargs={"project_id": world.project.pk,
                                                                                "round_id": rnd.pk}))
    assert page.status_code == 200
    assert "100%  n=30" in page.content.decode()  # the position chart's label for All reviewers


def test_it_shows_no_position_bias_on_a_fair_round(world):
    rnd = _round(world, 30)
    _judge_all(rnd, [world.users["reviewer"]], lambda c: "left" if c.left_is_a else "right")  # A always wins
    st = round_statistics(round=rnd)
    assert st["position_bias"]["overall"]["rate"] == pytest.approx(0.5)
    assert st["win_rate"]["rate"] == 1.0 and st["win_rate"]["p_value"] < 1e-6


def test_it_shows_length_bias_when_the_longer_answer_always_wins(world):
    rng = np.random.default_rng(0)
    texts = [("长" * int(rng.integers(5, 300)), "短" * int(rng.integers(5, 300))) for _ in range(40)]
    texts = [(a, b + "x") if len(a) == len(b) else (a, b) for a, b in texts]
    rnd = _round(world, 40, texts=texts)

    def longer(c):
        a_longer = len(c.candidate_a.text) > len(c.candidate_b.text)
        return "left" if a_longer == c.left_is_a else "right"

    _judge_all(rnd, [world.users["reviewer"]], longer)
    lb = round_statistics(round=rnd)["length_bias"]
    assert lb["longer_wins"]["rate"] == 1.0 and lb["length_coef"] > 5
    filled = [b for b in lb["buckets"] if b["n"]]
    assert filled[0]["rate"] == 0.0 and filled[-1]["rate"] == 1.0


def test_it_counts_characters_not_bytes_for_length(world):
    rnd = _round(world, 1, texts=[("中文中文", "abcdefgh")])
    _judge_all(rnd, [world.users["reviewer"]], lambda c: "tie")
    from labelstudio_app.review.selectors import judgment_frame

    f = judgment_frame(rounds=type(rnd).objects.filter(pk=rnd.pk))
    assert (f["len_a"][0], f["len_b"][0]) == (4, 8)


def test_it_reports_agreement_and_3h_scores(world):
    rnd = _round(world, 4, overlap=2)
    r1, r2 = world.users["reviewer"], world.users["manager"]
    for i, c in enumerate(rnd.comparisons.order_by("id")):
        for r, pref in ((r1, "tie"), (r2, "tie" if i < 3 else "both_bad")):
            lease(c, r)
            services.judgment_submit(comparison=c, user=r, preference=pref, scores={
                "left_helpfulness": 5, "left_honesty": 4, "left_harmlessness": 1,
                "right_helpfulness": 3, "right_honesty": 4, "right_harmlessness": 5})
    world.project.weights_3h = {"helpfulness": 2, "honesty": 1, "harmlessness": 1}
    world.project.harmlessness_veto = 2
    world.project.save()
    st = round_statistics(round=rnd)
    assert st["agreement"]["pairs"] == 4 and st["agreement"]["pair_agreement"] == 0.75
    dims = {d["dimension"]: d for d in st["dimensions"]}
    left_is_a = list(rnd.comparisons.order_by("id").values_list("left_is_a", flat=True))
    a_help = np.mean([5 if left else 3 for left in left_is_a for _ in range(2)])
    assert dims["helpfulness"]["a"]["mean"] == pytest.approx(a_help)
    # Left scores harmlessness 1 < veto 2: the Left answer is unusable whatever else it scored
    usable_right = (2 * 3 + 4 + 5) / 4
    exp_a = np.mean([0 if left else usable_right for left in left_is_a for _ in range(2)])
    assert st["usability"]["a"]["mean"] == pytest.approx(exp_a)


def test_it_rates_many_versions_across_rounds_with_reproducible_intervals(world, client_as, api_as):
    versions = [ModelVersionFactory(project=world.project, name=f"版本-{i}") for i in range(3)]
    items = [ItemFactory(project=world.project) for _ in range(30)]
    for mv in versions:
        for it in items:
            CandidateFactory(item=it, model_version=mv, text=f"{mv.name} says {it.pk}")
    strength = {versions[0].pk: 0, versions[1].pk: 1, versions[2].pk: 2}
    reviewers = [world.users["reviewer"], UserFactory(username="r2")]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        rnd = services.round_create(project=world.project, user=None, name=f"{a}-{b}", model_a=versions[a],
                                    model_b=versions[b], items=items, overlap=2)
        rng = np.random.default_rng(a * 10 + b)

        def pick(c, rng=rng, a=a, b=b):
            p_a = 1 / (1 + np.exp(strength[versions[b].pk] - strength[versions[a].pk]))
            a_wins = rng.random() < p_a
            return "left" if a_wins == c.left_is_a else "right"

        _judge_all(rnd, reviewers, pick)
    st1 = project_statistics(project=world.project, bootstrap=200, seed=1)
    st2 = project_statistics(project=world.project, bootstrap=200, seed=1)
    assert st1["ratings"] == st2["ratings"]
    assert [r["label"] for r in st1["ratings"]] == ["版本-2", "版本-1", "版本-0"]
    assert all(r["low"] < r["rating"] < r["high"] for r in st1["ratings"])
    assert sum(r["rating"] for r in st1["ratings"]) / 3 == pytest.approx(1000)
    m = np.array(st1["win_matrix"], dtype=float)
    assert m[2, 0] > 0.5 and m[0, 2] == pytest.approx(1 - m[2, 0])
    page = client_as(world.users["manager"]).get(reverse("review-stats", kwargs={"project_id": world.project.pk}))
    assert page.status_code == 200 and "版本-2" in page.content.decode() and "<svg" in page.content.decode()
    api = api_as(world.users["manager"]).get(reverse("api-review-stats", kwargs={"project_id": world.project.pk}))
    assert api.status_code == 200 and api.json()["judgments"] == 180


def test_it_exports_preference_pairs_skipping_ties_and_both_bad(world, client_as):
    rnd = _round(world, 4, texts=[(f"甲 a{i}", f"乙 b{i}") for i in range(4)])
    prefs = iter(["left", "right", "tie", "both_bad"])
    _judge_all(rnd, [world.users["reviewer"]], lambda c: next(prefs))
    r = client_as(world.users["manager"]).get(reverse("round-export", kwargs={"project_id": world.project.pk,
                                                                             "round_id": rnd.pk}))
    assert r.status_code == 200 and r.streaming
    rows = [json.loads(line) for line in b"".join(r.streaming_content).decode().splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert {"prompt", "chosen", "rejected", "task_type", "chosen_scores", "rejected_scores"} <= set(row)
        j = Judgment.objects.get(comparison__public_id=row["comparison"])
        c = j.comparison
        winner = c.candidate_a.text if j.preference == "a" else c.candidate_b.text
        assert row["chosen"] == winner and row["rejected"] != winner
        assert row["prompt"] == c.item.text and row["task_type"] == c.item.task_type


def test_it_creates_a_round_from_the_page_and_shows_errors_by_field(world, client_as):
    mv_a, mv_b, _items = review_setup(world.project, n_items=3)
    client = client_as(world.users["manager"])
    url = reverse("round-create", kwargs={"project_id": world.project.pk})
    r = client.post(url, {"name": "页面 round", "model_a": mv_a.pk, "model_b": mv_b.pk, "overlap": 1, "sample": 2,
                          "n_gold": 0})
    assert r.status_code == 302
    rnd = type(mv_a).objects.get(pk=mv_a.pk).project.rounds.get()
    assert len(rnd.item_ids) == 2 and rnd.comparisons.count() == 2
    bad = client.post(url, {"name": "x", "model_a": mv_a.pk, "overlap": 1, "params": "{oops"})
    assert bad.status_code == 400 and "Not valid JSON (line 1" in bad.content.decode()
    listing = client.get(reverse("round-list", kwargs={"project_id": world.project.pk}))
    assert "页面 round" in listing.content.decode()


def test_it_lists_rounds_in_a_fixed_number_of_queries(world, client_as, django_assert_max_num_queries):
    for i in range(3):
        _round(world, 2, name=f"r{i}")
    client = client_as(world.users["manager"])
    url = reverse("round-list", kwargs={"project_id": world.project.pk})
    client.get(url)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
