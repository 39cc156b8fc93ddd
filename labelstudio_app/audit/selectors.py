"""Reads for the label audit, always scoped to the user: managers of the project and admins; others get 404.

Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
from collections import defaultdict

from django.db.models import Count, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from labelstudio_app.accounts import roles as R
from labelstudio_app.audit import metrics
from labelstudio_app.audit.models import AuditPrediction, AuditRun
from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.selectors import project_get_for_manager, project_list_for_user


def audit_run_list_for_project(*, user, project_id: int) -> QuerySet[AuditRun]:
    project = project_get_for_manager(user=user, project_id=project_id)
    return (AuditRun.objects.filter(project=project).select_related("job", "created_by")
            .annotate(prediction_count=Count("predictions", distinct=True)).prefetch_related("model_versions"))


def audit_run_list_for_user(*, user) -> QuerySet[AuditRun]:
    projects = project_list_for_user(user=user, roles=R.MANAGERS)
    return AuditRun.objects.filter(project__in=projects).select_related("project", "job", "snapshot").prefetch_related(
        "model_versions")


def audit_run_get(*, user, run_id: int, project_id: int | None = None) -> AuditRun:
    runs = audit_run_list_for_user(user=user)
    if project_id is not None:
        runs = runs.filter(project_id=project_id)
    return get_object_or_404(runs, pk=run_id)


def question_list_single_choice(*, project: Project) -> list[dict]:
    return [q for q in project.label_schema or [] if isinstance(q, dict) and q.get("kind") == "single_choice"]


def item_list_labelled(*, project: Project, question: str, options: list[str]) -> QuerySet[Item]:
    """Items whose final label answers `question` with one of `options`."""
    return Item.objects.filter(project=project, **{f"final_values__{question}__in": options}).order_by("id")


def snapshot_list_for_audit(*, project: Project):
    """The project's dataset snapshots (whose held-out items an audit may be scoped to)."""
    from labelstudio_app.training.models import DatasetSnapshot

    return DatasetSnapshot.objects.filter(project=project).order_by("-created_at", "-id")


def model_version_list_for_audit(*, project: Project) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(project=project).order_by("parameter_count", "id")


def _rows(run: AuditRun):
    # An item relabelled to something outside the run's options since it was asked is left out.
    return list(AuditPrediction.objects.filter(run=run, human_value__in=run.options).values_list(
        "model_version_id", "item_id", "human_value", "predicted_value", "task_type"))


def _report(rows, run: AuditRun, positive: str | None) -> dict:
    return metrics.classification_report([r[2] for r in rows], [r[3] for r in rows], options=run.options,
                                         positive=positive)


def audit_report(*, run: AuditRun) -> dict:
    """Per model version: metrics overall and per task type; the scaling check; the disagreeing items."""
    positive = run.positive_class or None
    by_model: dict[int, list] = defaultdict(list)
    rows = _rows(run)
    for row in rows:
        by_model[row[0]].append(row)
    versions = sorted(run.model_versions.all(), key=lambda m: (m.parameter_count or 0, m.pk))
    models = []
    for mv in versions:
        mrows = by_model.get(mv.pk, [])
        task_types: dict[str, list] = defaultdict(list)
        for row in mrows:
            task_types[row[4] or ""].append(row)
        report = _report(mrows, run, positive)
        models.append({
            "model_version": mv, "id": mv.pk, "name": mv.name, "parameter_count": mv.parameter_count,
            "parent_id": mv.parent_id, "report": report,
            "value": metrics.metric_value(report, run.metric) if mrows else None,
            "per_task_type": [{"task_type": t, "report": _report(r, run, positive)}
                              for t, r in sorted(task_types.items())],
        })
    points = [metrics.ScalingPoint(key=m["id"], name=m["name"], parameters=m["parameter_count"] or 0,
                                   value=m["value"]) for m in models if m["value"] is not None]
    scaling = metrics.scaling_check(points, tolerance=run.tolerance)
    return {"run": run, "models": models, "scaling": scaling, "n_items": len(run.item_ids),
            "disagreements": _disagreements(run, rows, points)}


def _disagreements(run: AuditRun, rows, points) -> dict:
    """Items where the larger half of the family agrees on one answer and it is not the human label."""
    larger = metrics.larger_half(points)
    ids = {p.key for p in larger}
    if len(ids) < 2:
        return {"models": [p.name for p in larger], "items": []}
    answers: dict[int, dict] = defaultdict(dict)
    human: dict[int, str] = {}
    for mv_id, item_id, human_value, predicted, _t in rows:
        if mv_id in ids:
            answers[item_id][mv_id] = predicted
            human[item_id] = human_value
    item_ids = [i for i, a in answers.items()
                if len(a) == len(ids) and None not in a.values() and len(set(a.values())) == 1
                and next(iter(a.values())) != human[i]]
    items = Item.objects.filter(pk__in=item_ids).only("id", "text", "task_type").order_by("id")
    return {"models": [p.name for p in larger],
            "items": [{"item": it, "id": it.pk, "text": it.text, "task_type": it.task_type,
                       "human": human[it.pk], "models_say": next(iter(answers[it.pk].values()))} for it in items]}


def audit_prediction_list(*, run: AuditRun) -> QuerySet[AuditPrediction]:
    return AuditPrediction.objects.filter(run=run).select_related("model_version", "item").order_by(
        "item_id", "model_version_id")


def audit_compare(*, user, left: tuple[int, int], right: tuple[int, int]) -> dict:
    """Two (run, model version) pairs side by side: e.g. a fine-tuned version and its parent."""
    sides = []
    for run_id, mv_id in (left, right):
        run = audit_run_get(user=user, run_id=run_id)
        report = audit_report(run=run)
        model = next((m for m in report["models"] if m["id"] == mv_id), None)
        if model is None:
            raise Http404("That model version is not in that run.")
        sides.append({"run": run, "model": model})
    a, b = sides[0]["model"]["report"], sides[1]["model"]["report"]
    keys = ["accuracy", "unparseable_rate"]
    deltas = {k: b[k] - a[k] for k in keys}
    deltas.update({f"macro_{k}": b["macro"][k] - a["macro"][k] for k in ("precision", "recall", "f1")})
    if a.get("positive") and b.get("positive"):
        deltas.update({f"positive_{k}": b["positive"][k] - a["positive"][k] for k in ("precision", "recall", "f1")})
    ta = {t["task_type"]: t["report"] for t in sides[0]["model"]["per_task_type"]}
    tb = {t["task_type"]: t["report"] for t in sides[1]["model"]["per_task_type"]}
    task_types = [{"task_type": t, "left": ta.get(t), "right": tb.get(t),
                   "delta_f1": (tb[t]["macro"]["f1"] - ta[t]["macro"]["f1"]) if t in ta and t in tb else None}
                  for t in sorted(set(ta) | set(tb))]
    return {"left": sides[0], "right": sides[1], "deltas": deltas, "task_types": task_types}


# ---- for the audit job (the worker acts for the run's creator; no user scope) ------------------------------

def audit_run_get_for_job(*, run_id: int) -> AuditRun:
    return AuditRun.objects.select_related("project").get(pk=run_id)


def audit_prediction_count(*, run: AuditRun) -> int:
    return AuditPrediction.objects.filter(run=run).count()


def audit_item_ids_answered(*, run: AuditRun, model_version: ModelVersion) -> set[int]:
    return set(AuditPrediction.objects.filter(run=run, model_version=model_version).values_list("item_id", flat=True))


def audit_items_for_job(*, run: AuditRun, item_ids: list[int]) -> list[Item]:
    return list(Item.objects.filter(project_id=run.project_id, pk__in=item_ids).order_by("id"))


def audit_heldout_comparison(*, run: AuditRun, base_version_id: int, new_version_id: int) -> dict | None:
    """Base vs new version on the items both answered in `run` (metrics.heldout_comparison); None until both
    have answered at least one item. The run's own records only: the caller has already checked access."""
    answers: dict[int, dict[int, tuple]] = defaultdict(dict)
    for mv_id, item_id, human, predicted in (AuditPrediction.objects.filter(
            run=run, model_version_id__in=[base_version_id, new_version_id])
            .values_list("model_version_id", "item_id", "human_value", "predicted_value")):
        answers[item_id][mv_id] = (human, predicted)
    paired = sorted(i for i, by in answers.items() if len(by) == 2 or base_version_id == new_version_id)
    if not paired:
        return None
    y_true = [answers[i][base_version_id][0] for i in paired]
    base = [answers[i][base_version_id][1] for i in paired]
    new = [answers[i][new_version_id][1] for i in paired]
    options = list(run.options) + sorted({t for t in y_true if t not in run.options})
    return {**metrics.heldout_comparison(y_true, base, new, options=options), "expected": len(run.item_ids)}
