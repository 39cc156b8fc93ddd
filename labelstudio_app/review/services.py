"""Writes of the blind review: rounds, their comparisons, the reviewers' queue, judgments, flags.

Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict; nothing else (docs/rules.md).
"""
import random
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from labelstudio_app.core.errors import Conflict
from labelstudio_app.evaluation.models import Candidate, ModelVersion
from labelstudio_app.evaluation.params import params_hash
from labelstudio_app.projects.models import Item
from labelstudio_app.review.models import Comparison, ComparisonClaim, ComparisonRound, Judgment

Status = ComparisonRound.Status
LEASE = timedelta(minutes=20)
MAX_TIME_SPENT_MS = 60 * 60 * 1000
DIMENSIONS = ("helpfulness", "honesty", "harmlessness")
SCORE_FIELDS = tuple(f"{side}_{d}" for side in ("left", "right") for d in DIMENSIONS)
PREFERENCES = ("left", "right", "tie", "both_bad")


def _params_hash(params: dict) -> str:
    """The hash of the sampling params, the one generation jobs write on their candidates."""
    try:
        return params_hash(params)
    except ValidationError as exc:
        raise ValidationError({"params": exc.messages}) from None


# ---- rounds ----------------------------------------------------------------------------------------------

def round_create(*, project, user, name: str, model_a: ModelVersion, model_b: ModelVersion | None = None,
                 items: Iterable, overlap: int = 1, params: dict | None = None, generate: bool = False,
                 n_gold: int = 0) -> ComparisonRound:
    """A round of model A vs model B (None: the items' reference answers). From the candidates that exist,
    or, with generate=True, after a generation job has written the missing ones (status `generating`)."""
    item_ids = sorted({getattr(i, "pk", i) for i in items})
    if not name.strip():
        raise ValidationError({"name": _("a round needs a name.")})
    if not item_ids:
        raise ValidationError({"items": _("the selection is empty.")})
    for label, mv in (("model_a", model_a), ("model_b", model_b)):
        if mv is not None and mv.project_id != project.pk:
            raise ValidationError({label: _("model version %(name)s is not in this project.") % {"name": mv.name}})
    if model_b is not None and model_b.pk == model_a.pk:
        raise ValidationError({"model_b": _("compare two different model versions (or leave B empty for the reference answer).")})
    if not 1 <= int(overlap) <= 20:
        raise ValidationError({"overlap": _("between 1 and 20 judgments per comparison.")})
    foreign = set(item_ids) - set(Item.objects.filter(project=project, pk__in=item_ids).values_list("pk", flat=True))
    if foreign:
        raise ValidationError({"items": _("not in this project: %(ids)s") % {"ids": ", ".join(map(str, sorted(foreign)[:20]))}})
    if n_gold < 0 or n_gold > 1000:
        raise ValidationError({"n_gold": _("between 0 and 1000.")})
    if generate and params is None:
        params = {}
    if not generate:
        _answers_check(model_a=model_a, model_b=model_b, item_ids=item_ids,
                       params_hash=_params_hash(params) if params is not None else "")
    with transaction.atomic():
        rnd = ComparisonRound.objects.create(
            project=project, name=name.strip()[:200], model_a=model_a, model_b=model_b, overlap=int(overlap),
            params_hash=_params_hash(params) if params is not None else "", created_by=user, item_ids=item_ids,
            n_gold=n_gold, status=Status.GENERATING if generate else Status.OPEN,
        )
        if generate:
            from labelstudio_app.evaluation.services import generation_job_create

            versions = [model_a] + ([model_b] if model_b is not None else [])
            job = generation_job_create(project=project, user=user, model_versions=versions, items=item_ids,
                                        n_samples=1, params=params,
                                        then={"name": "review.round_open", "kwargs": {"round_id": rnd.pk}})
            ComparisonRound.objects.filter(pk=rnd.pk).update(generation_job=job)
            rnd.generation_job = job
        else:
            round_build(round_id=rnd.pk)
            rnd.refresh_from_db()
    return rnd


def _answers_check(*, model_a: ModelVersion, model_b: ModelVersion | None, item_ids: list, params_hash: str) -> None:
    """Refuses a round from existing answers where one side has none for the selected items: it would open
    with nothing to judge."""
    if not _candidates_by_item(version_id=model_a.pk, item_ids=item_ids, params_hash=params_hash):
        raise ValidationError({"model_a": _(
            "%(name)s has no answers for the selected items yet: generate them first, or tick \"Generate the "
            "missing answers first\".") % {"name": model_a.name}})
    if model_b is not None:
        if not _candidates_by_item(version_id=model_b.pk, item_ids=item_ids, params_hash=params_hash):
            raise ValidationError({"model_b": _(
                "%(name)s has no answers for the selected items yet: generate them first, or tick \"Generate "
                "the missing answers first\".") % {"name": model_b.name}})
    elif not Item.objects.filter(pk__in=item_ids).exclude(reference_answer="").exists():
        raise ValidationError({"model_b": _(
            "None of the selected items has a reference answer to compare against: pick a model version as B.")})


def round_open_after_generation(*, job, round_id: int) -> None:
    """Follow-up of a round's generation job: build the comparisons from the candidates now present and
    open the round. Idempotent: a second call adds nothing and leaves an open round open."""
    with transaction.atomic():
        rnd = ComparisonRound.objects.select_for_update().filter(pk=round_id).first()
        if rnd is None or rnd.status == Status.CLOSED:
            return
        round_build(round_id=rnd.pk)
        ComparisonRound.objects.filter(pk=rnd.pk, status=Status.GENERATING).update(status=Status.OPEN)


def _candidates_by_item(*, version_id: int, item_ids: list, params_hash: str) -> dict:
    """The candidate each item shows for one version: not excluded, matching the round's params (any when
    the round has none), lowest sample index, newest first."""
    qs = Candidate.objects.filter(model_version_id=version_id, item_id__in=item_ids, excluded=False)
    if params_hash:
        qs = qs.filter(params_hash=params_hash)
    chosen: dict = {}
    for cand_id, item_id in qs.order_by("item_id", "sample_index", "-created_at", "-id").values_list("pk", "item_id"):
        chosen.setdefault(item_id, cand_id)
    return chosen


def _balanced_sides(n_new: int, existing_true: int, existing_total: int, rng: random.Random) -> list[bool]:
    """Left/right for the new comparisons, so that the whole round is as close to half A-on-the-left as it can be."""
    total = existing_total + n_new
    want_true = total // 2 + (rng.random() < 0.5 if total % 2 else 0)
    n_true = min(n_new, max(0, want_true - existing_true))
    sides = [True] * n_true + [False] * (n_new - n_true)
    rng.shuffle(sides)
    return sides


def round_build(*, round_id: int) -> dict:
    """Creates the round's missing comparisons (needs an open transaction holding the round, or none at all).
    Natural key (round, item): re-running only fills gaps. Returns and stores the summary."""
    rnd = ComparisonRound.objects.select_related("project").get(pk=round_id)
    item_ids = list(rnd.item_ids)
    cands_a = _candidates_by_item(version_id=rnd.model_a_id, item_ids=item_ids, params_hash=rnd.params_hash)
    refs = {}
    if rnd.model_b_id:
        cands_b = _candidates_by_item(version_id=rnd.model_b_id, item_ids=item_ids, params_hash=rnd.params_hash)
    else:
        cands_b = {}
        refs = dict(Item.objects.filter(pk__in=item_ids).exclude(reference_answer="").values_list("pk", "reference_answer"))
    existing = set(Comparison.objects.filter(round=rnd).values_list("item_id", flat=True))
    todo, missing_a, missing_b = [], 0, 0
    for item_id in item_ids:
        if item_id in existing:
            continue
        if item_id not in cands_a:
            missing_a += 1
        elif (item_id not in cands_b) if rnd.model_b_id else (item_id not in refs):
            missing_b += 1
        else:
            todo.append(item_id)
    rng = random.SystemRandom()
    counts = Comparison.objects.filter(round=rnd).aggregate(
        total=Coalesce(_count(), 0), left_a=Coalesce(_count(Q(left_is_a=True)), 0))
    sides = _balanced_sides(len(todo), counts["left_a"], counts["total"], rng)
    new = [Comparison(round=rnd, item_id=i, candidate_a_id=cands_a[i], candidate_b_id=cands_b.get(i), left_is_a=s)
           for i, s in zip(todo, sides)]
    gold_new = _gold_build(rnd=rnd, cands_a=cands_a, rng=rng, used=existing | set(todo))
    # The queue serves in id order (after the judgment count), and ids follow insertion order: gold checks go
    # in at random places among the others, never all last, or reviewers could tell them by their position.
    for position, comparison in sorted(zip(rng.sample(range(len(new) + len(gold_new)), len(gold_new)), gold_new),
                                       key=lambda pair: pair[0]):
        new.insert(position, comparison)
    Comparison.objects.bulk_create(new, ignore_conflicts=True)
    gold = Comparison.objects.filter(round=rnd, is_gold=True).count()
    summary = {"items": len(item_ids), "comparisons": Comparison.objects.filter(round=rnd, is_gold=False).count(),
               "missing_a": missing_a, "missing_b": missing_b, "gold": gold}
    ComparisonRound.objects.filter(pk=rnd.pk).update(summary=summary)
    return summary


def _count(condition=None):
    return Count("pk", filter=condition)


def _gold_build(*, rnd, cands_a: dict, rng: random.Random, used: set) -> list[Comparison]:
    """The gold comparisons (attention checks) still missing, unsaved: each with a known better side, an item's
    reference answer (B) against model A's answer to a different question. Items outside the round's selection
    and `used`, so (round, item) stays unique."""
    want = rnd.n_gold - Comparison.objects.filter(round=rnd, is_gold=True).count()
    if want <= 0 or not cands_a:
        return []
    used = used | set(rnd.item_ids)
    pool = list(Item.objects.filter(project=rnd.project).exclude(reference_answer="").exclude(pk__in=used)
                .values_list("pk", flat=True)[:5000])
    rng.shuffle(pool)
    decoys = list(cands_a.items())
    new = []
    for item_id in pool[:want]:
        options = [c for other_item, c in decoys if other_item != item_id]
        if options:
            new.append(Comparison(round=rnd, item_id=item_id, candidate_a_id=rng.choice(options), candidate_b=None,
                                  is_gold=True, gold_better="b", left_is_a=rng.random() < 0.5))
    return new


def round_status_set(*, round: ComparisonRound, status: str) -> ComparisonRound:
    """Opens or closes a round. A generating round opens by itself when its generation is done."""
    if status not in (Status.OPEN, Status.CLOSED):
        raise ValidationError({"status": _("open or closed.")})
    if round.status == Status.GENERATING and status == Status.OPEN:
        raise ValidationError({"status": _("the round opens by itself when its generation job is done.")})
    ComparisonRound.objects.filter(pk=round.pk).update(status=status)
    round.status = status
    return round


# ---- flags: a candidate that reveals its model ----------------------------------------------------------

def candidate_exclude(*, comparison: Comparison, side: str) -> str:
    """Flags side 'a' or 'b' of a comparison as revealing its model (Candidate.excluded) and takes it out of
    review: every open comparison showing it gets another sample of the same version when one exists and
    nobody judged it yet; otherwise it is withdrawn (its judgments stay stored, out of the statistics).
    Returns 'replaced', 'withdrawn' or 'mixed'."""
    if side not in ("a", "b"):
        raise ValidationError({"side": _("'a' or 'b'.")})
    candidate_id = comparison.candidate_a_id if side == "a" else comparison.candidate_b_id
    if candidate_id is None:
        raise ValidationError({"side": _("side B is the item's reference answer, not a model's candidate.")})
    outcomes = set()
    with transaction.atomic():
        cand = Candidate.objects.select_for_update().get(pk=candidate_id)
        Candidate.objects.filter(pk=cand.pk).update(excluded=True)
        affected = Comparison.objects.select_for_update().select_related("round").filter(
            Q(candidate_a_id=cand.pk) | Q(candidate_b_id=cand.pk), withdrawn=False)
        for comp in affected:
            field = "candidate_a_id" if comp.candidate_a_id == cand.pk else "candidate_b_id"
            other = None
            if comp.judgments_count == 0 and not comp.is_gold:
                other = _candidates_by_item(version_id=cand.model_version_id, item_ids=[cand.item_id],
                                            params_hash=comp.round.params_hash).get(cand.item_id)
            if other:
                Comparison.objects.filter(pk=comp.pk).update(**{field: other})
                ComparisonClaim.objects.filter(comparison=comp, state=ComparisonClaim.State.OPEN).delete()
                outcomes.add("replaced")
            else:
                Comparison.objects.filter(pk=comp.pk).update(withdrawn=True)
                outcomes.add("withdrawn")
    return outcomes.pop() if len(outcomes) == 1 else ("mixed" if outcomes else "withdrawn")


# ---- the reviewers' queue ----------------------------------------------------------------------------------
#
# Concurrency rule (the same as the labelling queue's): whoever adds a live claim on a comparison (inserts a
# lease, renews a lapsed one, or stores a judgment) holds that comparison's row lock (`SELECT ... FOR UPDATE`)
# and checks the room in a later statement, which sees every claim committed before the lock was granted.
# Room = judgments stored + other reviewers' unexpired leases < the round's overlap. So a lease can only
# exist when there is room, and a lease the queue would return on a comparison that filled up, was withdrawn
# or whose round closed is dropped, never handed out (a reviewer must never be given work that submit refuses).

CLAIM_ATTEMPTS = 5


def _claim_table() -> str:
    return ComparisonClaim._meta.db_table


def _others_live_sql() -> str:
    """SQL: other reviewers' unexpired leases on a comparison. Params: comparison id, now, reviewer id."""
    return (f"(SELECT COUNT(*) FROM {_claim_table()} x WHERE x.comparison_id = %s AND x.state = 'open' "
            f"AND x.expires_at > %s AND x.reviewer_id <> %s)")


def _claim_insert(*, comparison: Comparison, user, now) -> bool:
    """Needs the comparison's row lock (and its judgments_count read under it). Leases it to `user` if it
    still has room; True when it did."""
    sql = (f"INSERT INTO {_claim_table()} (comparison_id, reviewer_id, state, expires_at, created_at) "
           f"SELECT %s, %s, 'open', %s, %s WHERE %s + {_others_live_sql()} < %s "
           f"ON CONFLICT (comparison_id, reviewer_id) DO NOTHING")
    params = [comparison.pk, user.pk, now + LEASE, now, comparison.judgments_count, comparison.pk, now, user.pk,
              comparison.round.overlap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _claim_renew(*, claim_id: int, comparison: Comparison, user, now) -> bool:
    """Needs the comparison's row lock. Extends this reviewer's lease (lapsed or not) if the comparison still
    has room for them; True when it did."""
    sql = (f"UPDATE {_claim_table()} SET expires_at = %s WHERE id = %s AND state = 'open' "
           f"AND %s + {_others_live_sql()} < %s")
    params = [now + LEASE, claim_id, comparison.judgments_count, comparison.pk, now, user.pk,
              comparison.round.overlap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _first_per_open_round(*, project, user, now, round_id: int | None, exclude: list[int]) -> list[int]:
    """For each open round, the first comparison (fewest judgments, then id) that this reviewer never
    claimed, judged or skipped and that has room by this snapshot. One scalar subquery per open round, each
    an ordered scan of the (round, judgments_count, id) index that stops at its first hit, so the cost does
    not grow with the project's closed rounds or with the comparisons already full. Plain SQL (PostgreSQL
    and SQLite): the ORM spent ten times the query's own time building it."""
    comparison, judgment = Comparison._meta.db_table, Judgment._meta.db_table
    sql = (f"SELECT (SELECT c.id FROM {comparison} c WHERE c.round_id = r.id AND NOT c.withdrawn "
           f"AND c.judgments_count < r.overlap "
           f"AND NOT EXISTS (SELECT 1 FROM {_claim_table()} m WHERE m.comparison_id = c.id AND m.reviewer_id = %s) "
           f"AND NOT EXISTS (SELECT 1 FROM {judgment} j WHERE j.comparison_id = c.id AND j.reviewer_id = %s) "
           f"AND c.judgments_count + (SELECT COUNT(*) FROM {_claim_table()} x WHERE x.comparison_id = c.id "
           f"AND x.state = 'open' AND x.expires_at > %s) < r.overlap ")
    params: list = [user.pk, user.pk, now]
    if exclude:
        sql += f"AND c.id NOT IN ({', '.join(['%s'] * len(exclude))}) "
        params += exclude
    sql += (f"ORDER BY c.judgments_count, c.id LIMIT 1) FROM {ComparisonRound._meta.db_table} r "
            f"WHERE r.project_id = %s AND r.status = %s")
    params += [project.pk, Status.OPEN]
    if round_id is not None:
        sql += " AND r.id = %s"
        params.append(round_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall() if row[0] is not None]


def _locked(qs):
    return qs.select_related("round", "item", "candidate_a", "candidate_b").select_for_update(of=("self",))


def comparison_claim_next(*, project, user, round_id: int | None = None) -> Comparison | None:
    """Runs in its own transaction. The comparison this reviewer holds, or the next one that still needs
    judgments, leased to them: never one they judged or skipped, never more holders than the overlap
    wants. A held lease on a comparison that is full, withdrawn or closed is dropped and the next one picked.
    Candidates another reviewer is claiming right now are skipped, not waited on."""
    now = timezone.now()
    with transaction.atomic():
        # the comparisons this reviewer holds a lease on, locked (in id order: no deadlocks), with the lease's id
        held = (_locked(Comparison.objects.filter(claims__reviewer=user, claims__state=ComparisonClaim.State.OPEN,
                                                  round__project=project))
                .annotate(claim_id=F("claims__id")).order_by("pk"))
        if round_id is not None:
            held = held.filter(round_id=round_id)
        for comp in held:
            if (not comp.withdrawn and comp.round.status == Status.OPEN
                    and _claim_renew(claim_id=comp.claim_id, comparison=comp, user=user, now=now)):
                return comp
            ComparisonClaim.objects.filter(pk=comp.claim_id, state=ComparisonClaim.State.OPEN).delete()
        tried: list[int] = []
        for _ in range(CLAIM_ATTEMPTS):  # a candidate taken since our snapshot costs one more round
            ids = _first_per_open_round(project=project, user=user, now=now, round_id=round_id, exclude=tried)
            if not ids:
                return None
            comp = (_locked(Comparison.objects.filter(pk__in=ids)).select_for_update(skip_locked=True, of=("self",))
                    .order_by("judgments_count", "id").first())
            if comp is None:  # all being claimed by others right now
                tried.extend(ids)
                continue
            if _claim_insert(comparison=comp, user=user, now=now):
                return comp
            mine = ComparisonClaim.objects.filter(comparison=comp, reviewer=user, state=ComparisonClaim.State.OPEN)
            if mine.exists():
                return comp  # the same reviewer in another tab just took it: show them the same one
            tried.append(comp.pk)
    return None


def comparison_skip(*, comparison: Comparison, user) -> None:
    """The reviewer passes on this comparison; it goes back to the queue for others, never to them again."""
    now = timezone.now()
    updated = ComparisonClaim.objects.filter(comparison=comparison, reviewer=user).update(
        state=ComparisonClaim.State.SKIPPED, expires_at=now)
    if not updated:
        try:
            with transaction.atomic():
                ComparisonClaim.objects.create(comparison=comparison, reviewer=user, expires_at=now,
                                               state=ComparisonClaim.State.SKIPPED)
        except IntegrityError:
            pass


def judgment_submit(*, comparison: Comparison, user, scores: dict, preference: str, comment: str = "") -> Judgment:
    """Locks the comparison, then stores the verdict mapped from Left/Right to A/B. A reviewer who already
    judged it gets their stored judgment back (a double submit answers as the first one did). Refused when
    it was never leased to this reviewer (or they skipped it), the comparison was withdrawn, its round is not
    open, it has its judgments already, or their lease lapsed and the free places went to other reviewers'
    live leases."""
    missing = [f for f in SCORE_FIELDS if f not in scores]
    if missing:
        raise ValidationError({"scores": _("missing %(fields)s") % {"fields": ", ".join(missing)}})
    bad = [f for f in SCORE_FIELDS if not (isinstance(scores[f], int) and 1 <= scores[f] <= 5)]
    if bad:
        raise ValidationError({"scores": _("%(fields)s must be whole numbers from 1 to 5") % {"fields": ", ".join(bad)}})
    if preference not in PREFERENCES:
        raise ValidationError({"preference": _("one of left, right, tie, both_bad.")})
    now = timezone.now()
    with transaction.atomic():
        comp = Comparison.objects.select_for_update(of=("self",)).select_related("round").get(pk=comparison.pk)
        # A statement of its own, after the lock: it sees a judgment that this reviewer's other request
        # committed while this one waited (a subquery in the locking statement would not).
        stored = Judgment.objects.filter(comparison=comp, reviewer=user).first()
        if stored is not None:
            return stored
        if comp.withdrawn or comp.round.status != Status.OPEN:
            raise Conflict(_("This comparison is no longer open for review."))
        if comp.judgments_count >= comp.round.overlap:
            raise Conflict(_("This comparison already has all the judgments it needs."))
        claim = ComparisonClaim.objects.filter(comparison=comp, reviewer=user).first()
        if claim is None or claim.state != ComparisonClaim.State.OPEN:  # never handed to them, or skipped
            raise Conflict(_("This comparison was not given to you; take your next one from the review page."))
        live = claim.expires_at > now
        if not live and comp.judgments_count + (
                ComparisonClaim.objects.filter(comparison=comp, state=ComparisonClaim.State.OPEN, expires_at__gt=now)
                .exclude(reviewer=user).count()) >= comp.round.overlap:
            raise Conflict(_("Your lease on this comparison ran out and it was given to another reviewer."))
        a, b = ("left", "right") if comp.left_is_a else ("right", "left")
        pref = {"tie": "tie", "both_bad": "both_bad", a: "a", b: "b"}[preference]
        spent = int((now - claim.created_at).total_seconds() * 1000)
        judgment = Judgment.objects.create(
            comparison=comp, reviewer=user, preference=pref, comment=comment.strip()[:5000],
            time_spent_ms=min(max(spent, 0), MAX_TIME_SPENT_MS),
            **{f"a_{d}": scores[f"{a}_{d}"] for d in DIMENSIONS}, **{f"b_{d}": scores[f"{b}_{d}"] for d in DIMENSIONS},
        )
        Comparison.objects.filter(pk=comp.pk).update(judgments_count=F("judgments_count") + 1)
        ComparisonClaim.objects.filter(pk=claim.pk).update(state=ComparisonClaim.State.DONE, expires_at=now)
    return judgment


def judgment_preference_shown(*, comparison: Comparison, judgment: Judgment) -> str:
    """The stored A/B preference as the reviewer saw it: left, right, tie or both_bad."""
    a, b = ("left", "right") if comparison.left_is_a else ("right", "left")
    return {"a": a, "b": b}.get(judgment.preference, judgment.preference)
