"""Reads of the labelling domain, always scoped to the user (outsiders get 404).

Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
from collections import defaultdict

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404

from labelstudio_app.accounts import roles as R
from labelstudio_app.core.cache import cached
from labelstudio_app.labelling import agreement
from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.selectors import project_list_for_user


def item_get_for_annotator(*, user, item_id: int, project: Project | None = None) -> Item:
    """An item of a project where `user` may label; 404 otherwise."""
    projects = project_list_for_user(user=user, roles=R.ANNOTATORS)
    items = Item.objects.select_related("project").filter(project__in=projects)
    if project is not None:
        items = items.filter(project=project)
    try:
        return items.get(pk=item_id)
    except Item.DoesNotExist:
        raise Http404("No such item.") from None


def annotation_get_for_reviewer(*, user, annotation_id: int, project: Project | None = None) -> Annotation:
    projects = project_list_for_user(user=user, roles=R.REVIEWERS)
    qs = Annotation.objects.select_related("item__project", "annotator").filter(item__project__in=projects)
    if project is not None:
        qs = qs.filter(item__project=project)
    try:
        return qs.get(pk=annotation_id)
    except Annotation.DoesNotExist:
        raise Http404("No such annotation.") from None


def annotation_get_own(*, user, project: Project, item_id: int) -> Annotation | None:
    return Annotation.objects.filter(annotator=user, item_id=item_id, item__project=project).first()


def annotation_previous_for_annotator(*, user, project: Project, before_id: int | None = None) -> Annotation | None:
    """The user's annotation before `before_id` (their latest when None): what `u` goes back to."""
    qs = Annotation.objects.select_related("item").filter(annotator=user, item__project=project)
    if before_id is not None:
        qs = qs.filter(pk__lt=before_id)
    return qs.order_by("-pk").first()


PROGRESS_TOTAL_TTL = 30  # seconds; counting 100k items on every submit costs more than the claim itself


def label_progress(*, user, project: Project) -> dict:
    """Done by me / items in the project. The project total is cached briefly (it changes only on import)."""
    mine = Annotation.objects.filter(annotator=user, item__project=project).count()
    total = cached(f"labelling:total:{project.pk}", lambda: Item.objects.filter(project=project).count(),
                   PROGRESS_TOTAL_TTL)
    return {"mine": mine, "total": total}


def _qa_pending(project: Project, reviewer=None):
    """Annotations waiting for QA; for a `reviewer`, without their own (nobody reviews their own work)."""
    qs = (Annotation.objects.filter(item__project=project, status=Annotation.Status.SUBMITTED)
          .filter(Q(qa_requested_at__isnull=False) | Q(item__status=Item.Status.LABELLED)))
    return qs.exclude(annotator=reviewer) if reviewer is not None else qs


def annotation_next_for_qa(*, project: Project, reviewer=None, after_id: int | None = None) -> Annotation | None:
    """The next annotation waiting for a reviewer (never one of their own): items sent back to QA first, then
    labelled items in order."""
    qs = _qa_pending(project, reviewer).select_related("item", "annotator")
    if after_id is not None:
        qs = qs.exclude(pk=after_id)
    return qs.order_by("qa_requested_at", "item_id", "pk").first()


def qa_pending_count(*, project: Project, reviewer=None) -> int:
    return _qa_pending(project, reviewer).count()


def annotation_list_for_item(*, item: Item) -> list[Annotation]:
    return list(Annotation.objects.filter(item=item).select_related("annotator").order_by("pk"))


def dashboard_numbers(*, project: Project) -> dict:
    """Progress, per-question agreement, per-annotator counts, speed and gold accuracy."""
    status = dict(Item.objects.filter(project=project).order_by().values_list("status").annotate(n=Count("pk")))
    total = sum(status.values())
    rows = list(Annotation.objects.filter(item__project=project).exclude(status=Annotation.Status.REJECTED)
                .values_list("item_id", "annotator__username", "values", "time_spent_ms", "item__is_gold",
                             "item__gold_values", "status"))
    schema = project.label_schema
    per_annotator: dict = defaultdict(lambda: {"count": 0, "times": [], "accepted": 0, "fixed": 0})
    for _item, who, _values, ms, _gold, _gv, st in rows:
        entry = per_annotator[who]
        entry["count"] += 1
        entry["times"].append(ms)
        entry["accepted"] += st == Annotation.Status.ACCEPTED
        entry["fixed"] += st == Annotation.Status.FIXED
    gold = agreement.gold_accuracy(schema, ((who, v, gv) for _i, who, v, _m, is_gold, gv, _s in rows if is_gold))
    rejected = dict(Annotation.objects.filter(item__project=project, status=Annotation.Status.REJECTED)
                    .order_by().values_list("annotator__username").annotate(n=Count("pk")))
    annotators = []
    for who in sorted(per_annotator, key=str):
        entry = per_annotator[who]
        annotators.append({"username": who, "count": entry["count"], "accepted": entry["accepted"],
                           "fixed": entry["fixed"], "rejected": rejected.get(who, 0),
                           "median_s": agreement.speed(entry["times"])["median_s"], "gold": gold.get(who)})
    questions = agreement.question_agreement(
        schema, ((i, who, v) for i, who, v, _m, is_gold, _gv, _s in rows if not is_gold))
    per_day = list(Annotation.objects.filter(item__project=project).exclude(status=Annotation.Status.REJECTED)
                   .annotate(day=TruncDate("created_at")).order_by("day").values_list("day")
                   .annotate(n=Count("pk")))
    return {
        "items": {"total": total, "open": status.get("open", 0), "labelled": status.get("labelled", 0),
                  "done": status.get("done", 0)},
        "percent_done": int(100 * status.get("done", 0) / total) if total else 0,
        "annotations": len(rows), "qa_pending": qa_pending_count(project=project),
        "questions": questions, "annotators": annotators, "per_day": per_day,
    }


def items_done_count(project: Project) -> int:
    return Item.objects.filter(project=project, status=Item.Status.DONE).count()
