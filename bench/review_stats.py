"""Review statistics at scale and review-queue latency on PostgreSQL; prints one JSON object.

    .venv/bin/python bench/review_stats.py [--judgments 100000] [--versions 10] [--bootstrap 1000] [--samples 200]

Creates a throwaway database (bench_review, dropped at the end), migrates it, loads one project with
`--versions` model versions, rounds between pairs of them (a chain plus random pairs, so every version is
connected), 5 reviewers judging every comparison (`--judgments` in all, outcomes drawn from known
Bradley–Terry strengths), then measures through Django's in-process test client (full middleware, auth,
templates; no socket):
  - the project statistics page (`review-stats`: Bradley–Terry with `--bootstrap` resamples, win matrix,
    position / length bias, agreement, SVG charts) and the same numbers from the service alone;
  - one round's statistics page;
  - the review page's next (GET review-next, htmx) and submit (POST review-submit, htmx, which also
    serves the next card) latency p50 / p95 for one reviewer, then `comparison_claim_next` and
    `judgment_submit` through the services alone for a second reviewer.
Every judgment gets the `done` claim judgment_submit would leave, and the database is VACUUM ANALYZEd
after the load (fresh planner statistics, as autovacuum gives a database that size).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "bench_review"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
from bench.common import admin_sql, percentiles  # noqa: E402  (needs ROOT on sys.path)

REVIEWERS = 5
SCORES = {"left_helpfulness": 4, "left_honesty": 4, "left_harmlessness": 5, "right_helpfulness": 2,
          "right_honesty": 3, "right_harmlessness": 5, "preference": "left", "comment": "ok"}  # one reviewer's verdict


def _setup_django() -> None:
    os.environ.update(DATABASE_URL=f"{SERVER}/{DB}", FLYWHEEL_DEV="1", ALLOWED_HOSTS="testserver",
                      DJANGO_SETTINGS_MODULE="labelstudio_app.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()


def _load(n_judgments: int, n_versions: int, seed: int = 0) -> dict:
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from labelstudio_app.accounts.models import Membership
    from labelstudio_app.evaluation.models import Candidate, ModelVersion
    from labelstudio_app.projects.models import Item, Project
    from labelstudio_app.review.models import Comparison, ComparisonClaim, ComparisonRound, Judgment

    call_command("migrate", verbosity=0)
    now = timezone.now()
    rng = np.random.default_rng(seed)
    User = get_user_model()
    admin = User.objects.create(username="bench_admin", is_staff=True, is_superuser=True)
    reviewers = [User.objects.create(username=f"bench_reviewer_{i}") for i in range(REVIEWERS)]
    project = Project.objects.create(name="bench review", weights_3h={"helpfulness": 2, "honesty": 1, "harmlessness": 1},
                                     harmlessness_veto=2)
    Membership.objects.bulk_create([Membership(user=u, project=project, role="reviewer") for u in reviewers])
    n_comparisons = n_judgments // REVIEWERS
    n_rounds = max(n_versions - 1, 20)
    per_round = -(-n_comparisons // n_rounds)
    items = Item.objects.bulk_create([Item(project=project, text=f"问题 question {i}", task_type=f"type / {i % 6}",
                                           reference_answer=f"参考答案 {i}") for i in range(per_round + 400)])
    versions = ModelVersion.objects.bulk_create([ModelVersion(project=project, name=f"bench-v{i}", base_model="/m")
                                                 for i in range(n_versions)])
    strength = rng.normal(0, 0.6, n_versions)
    cands = Candidate.objects.bulk_create(
        [Candidate(item=it, model_version=mv, params_hash="p", text="答" * int(rng.integers(10, 400)))
         for mv in versions for it in items[:per_round]], batch_size=5000)
    cand = {(c.model_version_id, c.item_id): c for c in cands}
    pairs = [(i, i + 1) for i in range(n_versions - 1)]
    while len(pairs) < n_rounds:
        a, b = rng.choice(n_versions, 2, replace=False)
        pairs.append((int(a), int(b)))
    judgments = []
    t0 = time.perf_counter()
    for r, (ia, ib) in enumerate(pairs):
        mv_a, mv_b = versions[ia], versions[ib]
        rnd = ComparisonRound.objects.create(project=project, name=f"round {r}", model_a=mv_a, model_b=mv_b,
                                             overlap=REVIEWERS, status="closed")
        sides = rng.permutation([True, False] * (per_round // 2) + [True] * (per_round % 2))
        comps = Comparison.objects.bulk_create(
            [Comparison(round=rnd, item=it, candidate_a=cand[(mv_a.pk, it.pk)], candidate_b=cand[(mv_b.pk, it.pk)],
                        left_is_a=bool(s), judgments_count=REVIEWERS) for it, s in zip(items[:per_round], sides)],
            batch_size=5000)
        p_a = 1 / (1 + np.exp(strength[ib] - strength[ia]))
        for c in comps:
            for u in reviewers:
                x = rng.random()
                pref = "tie" if x < 0.08 else "both_bad" if x < 0.1 else ("a" if rng.random() < p_a else "b")
                s = rng.integers(1, 6, 6)
                judgments.append(Judgment(comparison=c, reviewer=u, preference=pref, a_helpfulness=s[0],
                                          a_honesty=s[1], a_harmlessness=s[2], b_helpfulness=s[3], b_honesty=s[4],
                                          b_harmlessness=s[5], time_spent_ms=int(rng.integers(2000, 60000))))
        if len(judgments) >= n_judgments:
            break
    judgments = judgments[:n_judgments]
    Judgment.objects.bulk_create(judgments, batch_size=5000)
    # what judgment_submit leaves behind: a `done` claim per judgment (the queue reads them)
    ComparisonClaim.objects.bulk_create(
        [ComparisonClaim(comparison_id=j.comparison_id, reviewer_id=j.reviewer_id, state="done", expires_at=now)
         for j in judgments], batch_size=5000)
    # an open round for the latency part: the 400 items not used above, the reference answer as side B
    live = ComparisonRound.objects.create(project=project, name="live", model_a=versions[0], model_b=None, overlap=1)
    Candidate.objects.bulk_create([Candidate(item=it, model_version=versions[0], params_hash="p", text="答案 live")
                                   for it in items[per_round:]])
    from labelstudio_app.review.services import round_build

    live.item_ids = [it.pk for it in items[per_round:]]
    live.save(update_fields=["item_ids"])
    round_build(round_id=live.pk)
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum does to a database that size: fresh statistics
        cursor.execute("VACUUM ANALYZE")
    return {"project": project.pk, "admin": admin.pk, "reviewer": reviewers[0].pk, "reviewer_2": reviewers[1].pk,
            "round": rnd.pk,
            "rounds": len(pairs), "load_s": round(time.perf_counter() - t0, 1),
            "judgments": Judgment.objects.count(), "true_strength": strength.tolist()}


def _measure(info: dict, bootstrap: int, samples: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from labelstudio_app.projects.models import Project
    from labelstudio_app.review import reports
    from labelstudio_app.review.models import Comparison, ComparisonClaim

    User = get_user_model()
    out = {}
    project = Project.objects.get(pk=info["project"])
    t = time.perf_counter()
    st = reports.project_statistics(project=project, bootstrap=bootstrap)
    out["project_stats_service_s"] = round(time.perf_counter() - t, 3)
    out["ratings_top3"] = [f"{r['label']} {r['rating']:.0f} [{r['low']:.0f}, {r['high']:.0f}]" for r in st["ratings"][:3]]
    admin = Client()
    admin.force_login(User.objects.get(pk=info["admin"]))
    url = reverse("review-stats", kwargs={"project_id": project.pk})
    times = []
    for _ in range(3):
        t = time.perf_counter()
        r = admin.get(url)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.status_code
    out["project_stats_page_s"] = {"min": round(min(times), 3), "max": round(max(times), 3)}
    t = time.perf_counter()
    r = admin.get(reverse("round-detail", kwargs={"project_id": project.pk, "round_id": info["round"]}))
    out["round_page_s"] = round(time.perf_counter() - t, 3)
    assert r.status_code == 200

    reviewer = Client()
    reviewer.force_login(User.objects.get(pk=info["reviewer"]))
    next_url = reverse("review-next", kwargs={"project_id": project.pk})
    nexts, submits = [], []
    for _ in range(samples):
        t = time.perf_counter()
        r = reviewer.get(next_url, HTTP_HX_REQUEST="true")
        nexts.append(time.perf_counter() - t)
        claim = ComparisonClaim.objects.filter(reviewer_id=info["reviewer"], state="open").first()
        if claim is None:
            break
        public_id = Comparison.objects.values_list("public_id", flat=True).get(pk=claim.comparison_id)
        t = time.perf_counter()
        r = reviewer.post(reverse("review-submit", kwargs={"project_id": project.pk, "public_id": public_id}), SCORES,
                          HTTP_HX_REQUEST="true")
        submits.append(time.perf_counter() - t)
        assert r.status_code == 200
    out["review_next"] = percentiles(nexts)
    out["review_submit_and_next"] = percentiles(submits)

    # the same two steps through the services alone (another reviewer: every next is a new claim)
    from labelstudio_app.review import services

    user2 = User.objects.get(pk=info["reviewer_2"])
    scores = {k: 3 for k in services.SCORE_FIELDS}
    nexts, submits = [], []
    for _ in range(samples):
        t = time.perf_counter()
        comparison = services.comparison_claim_next(project=project, user=user2)
        nexts.append(time.perf_counter() - t)
        if comparison is None:
            break
        t = time.perf_counter()
        services.judgment_submit(comparison=comparison, user=user2, scores=scores, preference="tie")
        submits.append(time.perf_counter() - t)
    out["service_claim_next"] = percentiles(nexts)
    out["service_judgment_submit"] = percentiles(submits)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgments", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    admin_sql(f"DROP DATABASE IF EXISTS {DB}", base=SERVER)
    admin_sql(f"CREATE DATABASE {DB}", base=SERVER)
    try:
        _setup_django()
        from django.test.utils import setup_test_environment

        setup_test_environment()
        info = _load(args.judgments, args.versions)
        result = {"judgments": info["judgments"], "versions": args.versions, "rounds": info["rounds"],
                  "bootstrap": args.bootstrap, "load_s": info["load_s"], **_measure(info, args.bootstrap, args.samples)}
        result["loadavg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(result, ensure_ascii=False, indent=1))
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB}", base=SERVER)


if __name__ == "__main__":
    main()
