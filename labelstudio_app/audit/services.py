"""Writes for the label audit: create a run (and its job), store predictions, send disagreements to relabel.

Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict; nothing else (docs/rules.md).
"""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from labelstudio_app.audit import selectors
from labelstudio_app.audit.models import AuditPrediction, AuditRun
from labelstudio_app.audit.parser import BadParserSetting, ParserConfig
from labelstudio_app.core.errors import Conflict
from labelstudio_app.jobs.services import job_create
from labelstudio_app.labelling.services import qa_items_enqueue

DEFAULT_SAMPLING = {"temperature": 0.0, "max_new_tokens": 32}


def _question(project, name: str) -> dict:
    for q in selectors.question_list_single_choice(project=project):
        if q.get("name") == name:
            return q
    raise ValidationError({"question": _("'%(name)s' is not a single-choice question of this project")
                                       % {"name": name}})


@transaction.atomic
def audit_run_create(*, project, user, question: str, model_versions, positive_class: str = "", template: str = "",
                     keywords: dict | None = None, regex: str = "", temperature: float = 0.0,
                     max_new_tokens: int = 32, metric: str = AuditRun.Metric.PRECISION, tolerance: float = 0.02,
                     name: str = "", scope: str = AuditRun.Scope.ALL, snapshot=None,
                     scoring: str = AuditRun.Scoring.GENERATE) -> AuditRun:
    """Validates the run, picks the labelled items (all of them, or a snapshot's held-out items only, never its
    training items), and starts the audit job once the transaction commits."""
    q = _question(project, question)
    options = [o["value"] for o in q["options"]]
    versions = list(model_versions)
    errors = {}
    if not versions:
        errors["model_versions"] = _("choose at least one model version")
    if any(mv.project_id != project.pk for mv in versions):
        errors["model_versions"] = _("every model version must belong to this project")
    if positive_class and positive_class not in options:
        errors["positive_class"] = _("'%(value)s' is not an option of '%(question)s' (%(all)s)") % {
            "value": positive_class, "question": question, "all": ", ".join(options)}
    if metric not in AuditRun.Metric.values:
        errors["metric"] = _("choose one of %(all)s") % {"all": ", ".join(AuditRun.Metric.values)}
    if not (0 <= temperature <= 2):
        errors["temperature"] = _("must be between 0 and 2")
    if not (1 <= max_new_tokens <= 4096):
        errors["max_new_tokens"] = _("must be between 1 and 4096")
    if not (template or project.prompt_template).strip() and not project.training_template:
        errors["template"] = _("the project has no prompt template; write one here ({text}, {context})")
    if scope not in AuditRun.Scope.values:
        errors["scope"] = _("choose one of %(all)s") % {"all": ", ".join(AuditRun.Scope.values)}
    elif scope == AuditRun.Scope.HELDOUT and (snapshot is None or snapshot.project_id != project.pk):
        errors["snapshot"] = _("choose a snapshot of this project for the held-out scope")
    if scoring not in AuditRun.Scoring.values:
        errors["scoring"] = _("choose one of %(all)s") % {"all": ", ".join(AuditRun.Scoring.values)}
    try:
        ParserConfig.from_question(q, keywords=keywords, regex=regex)
    except BadParserSetting as exc:
        errors[exc.field] = str(exc)
    item_ids = list(selectors.item_list_labelled(project=project, question=question, options=options)
                    .values_list("id", flat=True))
    if scope == AuditRun.Scope.HELDOUT and "snapshot" not in errors:
        held = set(snapshot.heldout_item_ids or [])
        item_ids = [i for i in item_ids if i in held]
        if not item_ids and not errors:
            errors["snapshot"] = _("the snapshot has no labelled held-out item for '%(q)s'") % {"q": question}
    if not item_ids and not errors:
        errors["question"] = _("no item has a final label for '%(question)s' yet") % {"question": question}

    if errors:
        raise ValidationError(errors)
    run = AuditRun.objects.create(
        project=project, name=name, question=question, options=options, positive_class=positive_class,
        template=template, parser={"keywords": keywords or {}, "regex": regex},
        sampling={**DEFAULT_SAMPLING, "temperature": float(temperature), "max_new_tokens": int(max_new_tokens)},
        metric=metric, tolerance=tolerance, item_ids=item_ids, created_by=user, scope=scope,
        snapshot=snapshot if scope == AuditRun.Scope.HELDOUT else None, scoring=scoring,
    )
    run.model_versions.set(versions)
    run.job = job_create(kind="audit", user=user, project=project, params={"run_id": run.pk},
                         total=len(item_ids) * len(versions))
    run.save(update_fields=["job"])
    return run


def audit_parser_config(*, run: AuditRun) -> ParserConfig:
    q = {"options": [{"value": v} for v in run.options]}
    for question in selectors.question_list_single_choice(project=run.project):
        if question.get("name") == run.question:
            q = question
    return ParserConfig.from_question(q, keywords=run.parser.get("keywords"), regex=run.parser.get("regex", ""))


def audit_predictions_save(*, run: AuditRun, model_version, rows: list[dict]) -> int:
    """Stores a batch of answers; an answer already stored for (run, version, item) is kept, so a redelivered
    job only fills gaps. Returns how many rows were new."""
    before = AuditPrediction.objects.filter(run=run, model_version=model_version).count()
    AuditPrediction.objects.bulk_create(
        [AuditPrediction(run=run, model_version=model_version, **row) for row in rows], ignore_conflicts=True)
    return AuditPrediction.objects.filter(run=run, model_version=model_version).count() - before


def audit_disagreements_send(*, run: AuditRun, user) -> dict:
    """Sends the items the larger models agree on against the human label to the relabel / QA queue
    (labelling's `qa_items_enqueue`: their annotations wait for a reviewer again, with the reason shown)."""
    report = selectors.audit_report(run=run)
    if report["scaling"]["verdict"] == "not_enough":
        # Without models of several sizes, "the larger models agree" says nothing about the label.
        raise Conflict(_("Not enough models of different sizes have answered to judge the labels: add a larger or "
                         "a smaller model to the audit before sending items to relabel."))
    items = [d["item"] for d in report["disagreements"]["items"]]
    if not items:
        return {"items": 0, "annotations": 0}
    reason = _("Label audit #%(run)s: the larger models agree with each other and disagree with the label") % {
        "run": run.pk}
    queued = qa_items_enqueue(project=run.project, items=items, user=user, reason=reason)
    return {"items": len(items), "annotations": queued}
