"""Reads of snapshots and training runs, always scoped to the user: managers and admins of the project.

Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from labelstudio_app.audit.selectors import audit_heldout_comparison
from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.selectors import project_get_for_manager
from labelstudio_app.training.models import DatasetSnapshot, TrainingRun


def snapshot_list_for_project(*, user, project_id: int) -> QuerySet[DatasetSnapshot]:
    project = project_get_for_manager(user=user, project_id=project_id)
    return DatasetSnapshot.objects.filter(project=project).select_related("created_by", "token_job")


def snapshot_get(*, user, project_id: int, snapshot_id: int) -> DatasetSnapshot:
    return get_object_or_404(snapshot_list_for_project(user=user, project_id=project_id), pk=snapshot_id)


def training_run_list_for_project(*, user, project_id: int) -> QuerySet[TrainingRun]:
    project = project_get_for_manager(user=user, project_id=project_id)
    return (TrainingRun.objects.filter(project=project)
            .select_related("job", "job__project", "base_version", "snapshot", "result_version", "result_round",
                            "created_by", "heldout_audit", "heldout_audit__job"))


def training_run_get(*, user, project_id: int, run_id: int) -> TrainingRun:
    return get_object_or_404(training_run_list_for_project(user=user, project_id=project_id), pk=run_id)


def model_version_list_trainable(*, project) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(project=project).order_by("name", "id")


def parent_snapshot_for_version(*, base_version: ModelVersion) -> DatasetSnapshot | None:
    """The snapshot the run that made `base_version` trained on (None for a version no run of its project
    made): the old data a continued run may mix in."""
    run_id = (base_version.metadata or {}).get("training_run")
    if not isinstance(run_id, int):
        return None
    run = (TrainingRun.objects.filter(pk=run_id, project_id=base_version.project_id)
           .select_related("snapshot").first())
    return run.snapshot if run else None


# ---- for the worker's jobs (no user scope: the job row already carries who asked) ---------------------------

def training_run_get_for_job(*, job) -> TrainingRun:
    return TrainingRun.objects.select_related("project", "base_version", "snapshot", "created_by",
                                              "result_version").get(job=job)


def snapshot_get_for_job(*, snapshot_id: int) -> DatasetSnapshot:
    return DatasetSnapshot.objects.get(pk=snapshot_id)


def training_run_heldout_report(*, run: TrainingRun) -> dict | None:
    """Base vs new version on the snapshot's held-out items, from the run's held-out audit (None before it has
    answers). `run` comes from `training_run_get`, which has checked access."""
    if run.heldout_audit_id is None or run.result_version_id is None:
        return None
    report = audit_heldout_comparison(run=run.heldout_audit, base_version_id=run.base_version_id,
                                      new_version_id=run.result_version_id)
    return report and {**report, "audit": run.heldout_audit}


def training_run_truncation(*, run: TrainingRun) -> dict | None:
    """How many training examples had their answer cut by max_seq_length and how many of those lost their
    end-of-turn token, from the training job's result (None before the job has one)."""
    result = run.job.result or {}
    if "truncated" not in result:
        return None
    return {"truncated": int(result["truncated"]), "eot_lost": int(result.get("truncated_eot_lost") or 0),
            "examples": int(result.get("examples") or 0), "max_seq_length": run.hyperparams.get("max_seq_length")}


def snapshot_count(project) -> int:
    return DatasetSnapshot.objects.filter(project=project).count()


def finished_run_count(project) -> int:
    return TrainingRun.objects.filter(project=project, job__state=Job.State.SUCCEEDED).count()
