"""Reads of the blind review, always scoped to the user.

Reviewers get `comparison_card`: the question, its context with anonymised senders, and the texts of
Left and Right — nothing that tells the models apart. Managers get rounds, statistics and exports.
Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
import random
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Length
from django.http import Http404
from django.utils.translation import gettext as _

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.projects.chat import anonymise_context
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.selectors import project_get_for_manager
from labelstudio_app.review.models import Comparison, ComparisonClaim, ComparisonRound, Judgment

# ---- rounds (managers) -----------------------------------------------------------------------------------

def round_list_for_project(*, project: Project) -> QuerySet[ComparisonRound]:
    return (ComparisonRound.objects.filter(project=project).select_related("model_a", "model_b", "generation_job",
                                                                          "generation_job__project")
            .annotate(n_comparisons=Count("comparisons", filter=Q(comparisons__withdrawn=False), distinct=True),
                      n_judgments=Count("comparisons__judgments", distinct=True)))


def round_get(*, user, project_id: int, round_id: int) -> ComparisonRound:
    project = project_get_for_manager(user=user, project_id=project_id)
    try:
        return round_list_for_project(project=project).get(pk=round_id)
    except ComparisonRound.DoesNotExist:
        raise Http404("No such round.") from None


def model_version_list_for_project(*, project: Project) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(project=project).order_by("name", "id")


def comparison_list_for_round(*, round: ComparisonRound) -> QuerySet[Comparison]:
    return (Comparison.objects.filter(round=round).select_related("item", "candidate_a", "candidate_b")
            .order_by("withdrawn", "-is_gold", "id"))


def comparison_get_in_round(*, round: ComparisonRound, comparison_id: int) -> Comparison:
    try:
        return comparison_list_for_round(round=round).get(pk=comparison_id)
    except Comparison.DoesNotExist:
        raise Http404("No such comparison.") from None


def _is_pk(text: str) -> bool:
    # isdecimal, not isdigit: int() refuses digits such as '²'; and nothing past a bigint reaches the query
    return text.isascii() and text.isdecimal() and int(text) < 2 ** 63


def items_select(*, project: Project, task_type: str = "", status: str = "", ids: list | None = None,
                 sample: int | None = None, seed: int | None = None) -> list[int]:
    """Item ids for a round: an explicit list (ids or external ids; a held-out set), else a filter by task
    type (a prefix: `reasoning` takes `reasoning / multi-step`) and status, optionally a random sample of n."""
    qs = Item.objects.filter(project=project)
    if ids:
        wanted = [str(i).strip() for i in ids if str(i).strip()]
        numeric = [int(i) for i in wanted if _is_pk(i)]
        found = dict(qs.filter(Q(pk__in=numeric) | Q(external_id__in=wanted)).values_list("external_id", "pk"))
        pks = set(qs.filter(pk__in=numeric).values_list("pk", flat=True))
        unknown = [i for i in wanted if i not in found and not (_is_pk(i) and int(i) in pks)]
        if unknown:
            raise ValidationError({"items": _("not in this project: %(ids)s") % {"ids": ", ".join(unknown[:20])}})
        result = sorted(pks | {found[i] for i in wanted if i in found})
    else:
        if task_type:
            qs = qs.filter(Q(task_type=task_type) | Q(task_type__startswith=task_type.rstrip() + " /"))
        if status:
            qs = qs.filter(status=status)
        result = list(qs.order_by("id").values_list("pk", flat=True))
    if sample is not None and sample < len(result):
        result = sorted(random.Random(seed).sample(result, sample))
    return result


# ---- the reviewer's view -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Card:
    """All a reviewer may see of a comparison."""

    public_id: str
    text: str
    context: list
    task_type: str
    left: str
    right: str
    identical: bool = False  # the same text on both sides (leading and trailing spaces aside): a tie


def comparison_get_for_reviewer(*, project: Project, public_id: str) -> Comparison:
    try:
        return (Comparison.objects.select_related("round", "item", "candidate_a", "candidate_b")
                .get(round__project=project, public_id=public_id))
    except Comparison.DoesNotExist:
        raise Http404("No such comparison.") from None


def _side_texts(c: Comparison) -> tuple[str, str]:
    text_a = c.candidate_a.text
    text_b = c.candidate_b.text if c.candidate_b_id else c.item.reference_answer
    return text_a, text_b


def comparison_card(*, comparison: Comparison) -> Card:
    text_a, text_b = _side_texts(comparison)
    left, right = (text_a, text_b) if comparison.left_is_a else (text_b, text_a)
    item = comparison.item
    return Card(public_id=comparison.public_id, text=item.text, context=anonymise_context(item.context),
                task_type=item.task_type, left=left, right=right, identical=left.strip() == right.strip())


def review_left_in_round(*, comparison: Comparison, user) -> int:
    """Comparisons of this comparison's round still waiting for this reviewer, this one included: not
    withdrawn, not full, never judged or skipped by them. A count only: it names no model, version or side."""
    rnd = comparison.round
    passed = ComparisonClaim.objects.filter(reviewer=user).exclude(state=ComparisonClaim.State.OPEN)
    return (Comparison.objects.filter(round=rnd, withdrawn=False, judgments_count__lt=rnd.overlap)
            .exclude(judgments__reviewer=user).exclude(pk__in=passed.values("comparison_id")).count())


def review_progress(*, project: Project, user) -> dict:
    """The reviewer's judgments in the project's open rounds (the work at hand). Bounded by the open rounds'
    comparisons, so it stays cheap however many closed rounds the project has."""
    open_rounds = ComparisonRound.objects.filter(project=project, status=ComparisonRound.Status.OPEN).values("pk")
    done = Judgment.objects.filter(reviewer=user, comparison__round_id__in=open_rounds).count()
    return {"done": done}


# ---- judgments as arrays, for statistics -----------------------------------------------------------------

FRAME_FIELDS = ("round_id", "model_a", "model_b", "reviewer", "comparison", "left_is_a", "preference", "task_type",
                "len_a", "len_b", "is_gold", "gold_better",
                "a_helpfulness", "a_honesty", "a_harmlessness", "b_helpfulness", "b_honesty", "b_harmlessness")
PREF_CODES = {"a": 0, "b": 1, "tie": 2, "both_bad": 3}


def judgment_frame(*, rounds: QuerySet[ComparisonRound]) -> dict[str, np.ndarray]:
    """Every stored judgment of these rounds (withdrawn comparisons left out) as column arrays, in one query.
    model_b is -1 where side B is the reference answer; lengths are in characters, not bytes."""
    qs = (Judgment.objects.filter(comparison__round__in=rounds, comparison__withdrawn=False)
          .annotate(len_a=Length("comparison__candidate_a__text"),
                    len_b_cand=Length("comparison__candidate_b__text"),
                    len_ref=Length("comparison__item__reference_answer"))
          .values_list("comparison__round_id", "comparison__round__model_a_id", "comparison__round__model_b_id",
                       "reviewer_id", "comparison_id", "comparison__left_is_a", "preference",
                       "comparison__item__task_type", "len_a", "len_b_cand", "len_ref", "comparison__is_gold",
                       "comparison__gold_better", "a_helpfulness", "a_honesty", "a_harmlessness", "b_helpfulness",
                       "b_honesty", "b_harmlessness")
          .order_by())
    rows = list(qs)
    cols = list(zip(*rows)) if rows else [()] * 19
    n = len(rows)

    def arr(i, dtype=np.int64):
        return np.fromiter((v if v is not None else -1 for v in cols[i]), dtype=dtype, count=n)

    len_b = np.where(arr(9) >= 0, arr(9), arr(10))
    frame = {
        "round_id": arr(0), "model_a": arr(1), "model_b": arr(2), "reviewer": arr(3), "comparison": arr(4),
        "left_is_a": np.fromiter(cols[5], dtype=bool, count=n),
        "preference": np.fromiter((PREF_CODES[p] for p in cols[6]), dtype=np.int8, count=n),
        "task_type": np.array(cols[7], dtype=object), "len_a": arr(8), "len_b": len_b,
        "is_gold": np.fromiter(cols[11], dtype=bool, count=n), "gold_better": np.array(cols[12], dtype=object),
    }
    for i, name in enumerate(("a_helpfulness", "a_honesty", "a_harmlessness", "b_helpfulness", "b_honesty",
                              "b_harmlessness"), start=13):
        frame[name] = arr(i, np.float64)
    return frame


def judgment_count(project) -> int:
    return Judgment.objects.filter(comparison__round__project=project).count()


def parent_round_count(project) -> int:
    """Rounds that put a version against its own parent (the loop's last step)."""
    return ComparisonRound.objects.filter(project=project).filter(
        Q(model_a__parent=F("model_b")) | Q(model_b__parent=F("model_a"))).count()
