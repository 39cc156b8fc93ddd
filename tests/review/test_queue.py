"""The reviewers' queue: never hands out work that submitting then refuses, never more holders than the overlap."""
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from labelstudio_app.core.errors import Conflict
from labelstudio_app.review import services
from labelstudio_app.review.models import Comparison, ComparisonClaim, ComparisonRound, Judgment
from tests.factories import UserFactory
from tests.review.access import SCORES
from tests.review.factories import lease, review_setup

SERVICE_SCORES = {k: 3 for k in services.SCORE_FIELDS}


def _round(project, n_items=3, overlap=1, name="r"):
    mv_a, mv_b, items = review_setup(project, n_items=n_items)
    return services.round_create(project=project, user=None, name=name, model_a=mv_a, model_b=mv_b, items=items,
                                 overlap=overlap)


def _lapse(user):
    ComparisonClaim.objects.filter(reviewer=user, state="open").update(expires_at=timezone.now() - timedelta(minutes=1))


def _judge(comparison, user, preference="tie"):
    return services.judgment_submit(comparison=comparison, user=user, scores=SERVICE_SCORES, preference=preference)


@pytest.mark.django_db
def test_it_drops_a_lapsed_lease_on_a_comparison_another_reviewer_filled(world):
    _round(world.project, n_items=2)
    r1, r2 = world.users["reviewer"], UserFactory()
    first = services.comparison_claim_next(project=world.project, user=r1)
    _lapse(r1)
    taken = services.comparison_claim_next(project=world.project, user=r2)
    assert taken.pk == first.pk  # the lapsed lease freed it
    _judge(taken, r2)

    back = services.comparison_claim_next(project=world.project, user=r1)
    assert back is not None and back.pk != first.pk  # moved on, not handed the full one again
    assert not ComparisonClaim.objects.filter(reviewer=r1, comparison=first).exists()  # the stale lease is gone
    _judge(back, r1)  # and what it hands out is accepted
    assert services.comparison_claim_next(project=world.project, user=r1) is None
    assert dict(Comparison.objects.values_list("pk", "judgments_count")) == {first.pk: 1, back.pk: 1}


@pytest.mark.django_db
def test_it_gives_a_lapsed_lease_back_when_nobody_else_took_it(world):
    _round(world.project, n_items=2)
    r1 = world.users["reviewer"]
    first = services.comparison_claim_next(project=world.project, user=r1)
    _lapse(r1)
    assert services.comparison_claim_next(project=world.project, user=r1).pk == first.pk
    claim = ComparisonClaim.objects.get(reviewer=r1)
    assert claim.state == "open" and claim.expires_at > timezone.now() + timedelta(minutes=19)  # renewed


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["withdrawn", "closed"])
def test_it_drops_a_held_lease_when_the_comparison_leaves_review(world, how):
    rnd = _round(world.project, n_items=1)
    other = _round(world.project, n_items=1, name="other")
    r1 = world.users["reviewer"]
    held = services.comparison_claim_next(project=world.project, user=r1)
    if how == "withdrawn":
        Comparison.objects.filter(pk=held.pk).update(withdrawn=True)
    else:
        services.round_status_set(round=held.round, status="closed")
    nxt = services.comparison_claim_next(project=world.project, user=r1)
    assert nxt is not None and nxt.pk != held.pk and nxt.round_id in (rnd.pk, other.pk)
    assert not ComparisonClaim.objects.filter(reviewer=r1, comparison=held).exists()
    if how == "closed":  # the lease was dropped, not kept as "seen": reopening puts it back in their queue
        _judge(nxt, r1)
        services.round_status_set(round=held.round, status="open")
        assert services.comparison_claim_next(project=world.project, user=r1).pk == held.pk


@pytest.mark.django_db
def test_it_refuses_a_stale_submit_once_the_lease_went_to_another_reviewer(world):
    rnd = _round(world.project, n_items=1)
    r1, r2 = world.users["reviewer"], UserFactory()
    c = services.comparison_claim_next(project=world.project, user=r1)
    _lapse(r1)
    assert services.comparison_claim_next(project=world.project, user=r2).pk == c.pk
    with pytest.raises(Conflict, match=r"lease .* ran out"):
        _judge(c, r1)
    _judge(c, r2)  # the live holder is not robbed of their place
    assert Judgment.objects.filter(comparison__round=rnd).count() == 1
    with pytest.raises(Conflict, match="all the judgments"):  # over-full submits stay refused
        _judge(c, UserFactory())


@pytest.mark.django_db
def test_it_walks_past_comparisons_whose_places_are_all_leased(world):
    _round(world.project, n_items=3, overlap=2)
    users = [world.users["reviewer"], *(UserFactory() for _ in range(6))]
    got = [services.comparison_claim_next(project=world.project, user=u) for u in users]
    held = Counter(c.pk for c in got if c is not None)
    assert sorted(held.values()) == [2, 2, 2] and got[-1] is None  # 3 comparisons x overlap 2, the 7th waits
    assert ComparisonClaim.objects.filter(state="open").count() == 6


@pytest.mark.django_db
def test_it_serves_the_least_judged_comparison_across_open_rounds_only(world):
    a = _round(world.project, n_items=2, overlap=2, name="a")
    b = _round(world.project, n_items=2, overlap=2, name="b")
    closed = _round(world.project, n_items=2, overlap=2, name="closed")
    services.round_status_set(round=closed, status="closed")
    helper = UserFactory()
    for c in a.comparisons.all():  # round a: one judgment each already
        lease(c, helper)
        _judge(c, helper)
    me = world.users["reviewer"]
    seen = []
    while (c := services.comparison_claim_next(project=world.project, user=me)) is not None:
        seen.append(c.round_id)
        _judge(c, me)
    assert seen == [b.pk, b.pk, a.pk, a.pk]  # fewest judgments first, never the closed round
    assert services.comparison_claim_next(project=world.project, user=me, round_id=closed.pk) is None
    assert ComparisonRound.objects.get(pk=closed.pk).comparisons.filter(judgments_count__gt=0).count() == 0


@pytest.mark.django_db
def test_it_serves_and_stores_in_a_fixed_number_of_queries(world, client_as, django_assert_num_queries):
    _round(world.project, n_items=12, overlap=2)
    for _ in range(2):
        _round(world.project, n_items=3, overlap=1, name="closed")
    ComparisonRound.objects.filter(name="closed").update(status="closed")
    user = world.users["reviewer"]
    client = client_as(user)
    url = reverse("review-next", kwargs={"project_id": world.project.pk})
    client.get(url)  # session, first lease
    with django_assert_num_queries(10):  # the lease they hold (and one count: comparisons left in the round)
        r = client.get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    for _ in range(3):
        public_id = Comparison.objects.get(claims__reviewer=user, claims__state="open").public_id
        with django_assert_num_queries(21):  # judgment stored (after a fresh "judged already?" read), then a new lease and its card
            r = client.post(reverse("review-submit", kwargs={"project_id": world.project.pk, "public_id": public_id}),
                            SCORES, HTTP_HX_REQUEST="true")
        assert r.status_code == 200 and public_id not in r.content.decode()


# ---- many reviewers at once, each thread on its own PostgreSQL connection ------------------------------------

def _review_until_empty(project, user, outcomes, errors, barrier):
    from django.db import connection as thread_connection

    try:
        barrier.wait()
        for _ in range(200):
            c = services.comparison_claim_next(project=project, user=user)
            if c is None:
                return
            try:
                _judge(c, user, preference="left")
                outcomes.append(("stored", user.pk, c.pk))
            except Conflict as exc:
                outcomes.append(("refused", user.pk, c.pk, str(exc)))
        errors.append(f"reviewer {user.pk} never ran out of work: stuck")
    except Exception as exc:  # surfaced by the assertion below
        errors.append(repr(exc))
    finally:
        thread_connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises every writer; CI runs PostgreSQL")
@pytest.mark.parametrize("overlap", [1, 2])
def test_it_never_hands_out_refused_work_under_concurrent_reviewers(overlap):
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    rnd = _round(project, n_items=16, overlap=overlap)
    users = [UserFactory() for _ in range(6)]
    outcomes, errors = [], []
    barrier = threading.Barrier(len(users))
    threads = [threading.Thread(target=_review_until_empty, args=(project, u, outcomes, errors, barrier))
               for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    refused = [o for o in outcomes if o[0] == "refused"]
    assert not refused, refused  # the queue never handed out a comparison that submit then refused
    per_comparison = Counter(Judgment.objects.filter(comparison__round=rnd).values_list("comparison_id", flat=True))
    assert len(per_comparison) == 16 and set(per_comparison.values()) == {overlap}
    assert not ComparisonClaim.objects.filter(comparison__round=rnd, state="open").exists()


def _submit_in_thread(comparison, user, preference, results):
    from django.db import connection as thread_connection

    try:
        results.append(_judge(comparison, user, preference=preference))
    except Exception as exc:  # surfaced by the assertion below
        results.append(exc)
    finally:
        thread_connection.close()


def _wait_for_lock_waiters(n, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the view is frozen for the transaction
            cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0] >= n:
                return
        time.sleep(0.02)
    raise AssertionError(f"{n} requests never queued on the comparison's lock")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs PostgreSQL row locks")
def test_it_answers_a_concurrent_double_submit_with_the_stored_judgment():
    """Two submits of one reviewer queue on the comparison's row lock (held here, as a slow first request
    would), then run one after the other: the second answers with the judgment the first stored."""
    from django.db import transaction

    from tests.factories import ProjectFactory

    project = ProjectFactory()
    _round(project, n_items=1, overlap=2)
    user = UserFactory()
    comparison = services.comparison_claim_next(project=project, user=user)
    results = []
    threads = [threading.Thread(target=_submit_in_thread, args=(comparison, user, pref, results))
               for pref in ("left", "right")]
    with transaction.atomic():
        Comparison.objects.select_for_update().get(pk=comparison.pk)
        for t in threads:
            t.start()
        _wait_for_lock_waiters(2)
    for t in threads:
        t.join(30)
    assert len(results) == 2 and all(isinstance(r, Judgment) for r in results), results
    assert results[0].pk == results[1].pk
    assert Judgment.objects.filter(comparison=comparison).count() == 1
    assert Comparison.objects.get(pk=comparison.pk).judgments_count == 1


def test_it_refuses_a_judgment_on_a_comparison_leased_to_someone_else(world, client_as, api_as):
    _round(world.project, n_items=2, overlap=2)
    holder, other = world.users["reviewer"], world.users["manager"]
    held = services.comparison_claim_next(project=world.project, user=holder)
    kw = {"project_id": world.project.pk, "public_id": held.public_id}
    r = api_as(other).post(reverse("api-review-submit", kwargs=kw), SCORES, format="json")
    assert r.status_code == 409 and "not given to you" in r.json()["detail"]
    page = client_as(other).post(reverse("review-submit", kwargs=kw), SCORES, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "not given to you" in page.content.decode()
    assert not Judgment.objects.filter(reviewer=other).exists()
    # one the reviewer skipped cannot be judged either
    mine = services.comparison_claim_next(project=world.project, user=other)
    services.comparison_skip(comparison=mine, user=other)
    with pytest.raises(Conflict, match="not given to you"):
        _judge(mine, other)
    # the holder judges it
    r = api_as(holder).post(reverse("api-review-submit", kwargs=kw), SCORES, format="json")
    assert r.status_code == 201 and Judgment.objects.filter(reviewer=holder, comparison=held).exists()
