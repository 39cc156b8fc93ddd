"""Writes of the training domain: immutable snapshots, training runs, their progress and their results.

Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict; nothing else (docs/rules.md).
"""
import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.core.errors import Conflict
from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.jobs.services import job_create
from labelstudio_app.training.hyperparams import (
    hyperparams_validate,
    model_config_read,
    steps_estimate,
)
from labelstudio_app.training.models import DatasetSnapshot, TrainingRun
from labelstudio_app.training.snapshots import recipe_clean, snapshot_rows_build

CHUNK = 1 << 20
# Continuing from an adapter merges it and trains a new LoRA on top: a lower peak rate keeps what the merged
# adapter learned (the rate proposed, not imposed).
CONTINUE_LEARNING_RATE = 2e-5


def snapshot_file(snapshot: DatasetSnapshot) -> Path:
    return Path(settings.ARTIFACTS_DIR) / snapshot.path


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def snapshot_verify(*, snapshot: DatasetSnapshot) -> Path:
    """The snapshot's file, after checking it still hashes to the recorded sha256; Conflict if not
    (the file on disk no longer has the hash recorded at creation)."""
    path = snapshot_file(snapshot)
    if not path.exists():
        raise Conflict(_("snapshot %(name)r: its file %(path)s is missing") % {"name": snapshot.name, "path": snapshot.path},
                       code="snapshot_missing")
    actual = file_sha256(path)
    if actual != snapshot.sha256:
        raise Conflict(_("snapshot %(name)r: the file %(path)s was changed after it was made (sha256 %(actual)s… "
                         "instead of %(recorded)s…); refusing to train on it. Make a new snapshot.")
                       % {"name": snapshot.name, "path": snapshot.path, "actual": actual[:12],
                          "recorded": snapshot.sha256[:12]}, code="snapshot_tampered")
    return path


def snapshot_heldout_verify(*, snapshot: DatasetSnapshot) -> Path | None:
    """The snapshot's held-out rows file after checking its sha256 (Conflict if changed); None if none."""
    if not snapshot.heldout_path:
        return None
    path = Path(settings.ARTIFACTS_DIR) / snapshot.heldout_path
    if not path.exists() or file_sha256(path) != snapshot.heldout_sha256:
        raise Conflict(_("snapshot %(name)r: its held-out file %(path)s is missing or was changed after it was made; "
                         "make a new snapshot.") % {"name": snapshot.name, "path": snapshot.heldout_path},
                       code="snapshot_tampered")

    return path


def _write_immutable(rows: list[dict]) -> tuple[str, str, int]:
    """Writes rows as JSONL under snapshots/<sha256>.jsonl, read-only; returns (relative path, sha, size)."""
    import json

    folder = Path(settings.ARTIFACTS_DIR) / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as fh:
            for row in rows:
                line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
                h.update(line)
                fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        sha = h.hexdigest()
        final = folder / f"{sha}.jsonl"
        if final.exists() and file_sha256(final) == sha:
            os.unlink(tmp)  # the same content exists already: share it (it can never change)
        else:
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return f"snapshots/{sha}.jsonl", sha, final.stat().st_size


def snapshot_create(*, project, user, name: str, recipe: dict | None = None,
                    tokenizer_version: ModelVersion | None = None) -> DatasetSnapshot:
    """Builds the rows, writes the immutable file and records it. With `tokenizer_version`, a `snapshot` job
    counts the tokens with that model's tokenizer (the web process never loads one)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if tokenizer_version is not None and tokenizer_version.project_id != project.pk:
        raise ValidationError({"tokenizer_version": _("Pick a model version of this project.")})
    clean = recipe_clean(recipe)
    built = snapshot_rows_build(project=project, recipe=clean)
    if not built["rows"]:
        raise ValidationError({"sources": _("No approved example matches this recipe (sources, task types, dates); "
                                            "nothing to snapshot.")})
    path, sha, size = _write_immutable(built["rows"])
    heldout_path, heldout_sha = _write_immutable(built["heldout_rows"])[:2] if built["heldout_rows"] else ("", "")
    with transaction.atomic():
        snapshot = DatasetSnapshot.objects.create(
            project=project, name=name[:200], format=clean["format"], path=path, sha256=sha,
            row_count=len(built["rows"]), heldout_item_ids=built["heldout_item_ids"],
            heldout_path=heldout_path, heldout_sha256=heldout_sha,
            task_type_histogram=built["task_type_histogram"], source_histogram=built["source_histogram"],
            recipe=clean, size_bytes=size, created_by=user if user and user.is_authenticated else None,
            tokenizer_model=tokenizer_version.base_model if tokenizer_version else "",
        )
        if tokenizer_version is not None:
            job = job_create(kind="snapshot", user=user, project=project, total=snapshot.row_count,
                             params={"snapshot_id": snapshot.pk, "base_model": tokenizer_version.base_model,
                                     "trust_remote_code": tokenizer_version.trust_remote_code})
            DatasetSnapshot.objects.filter(pk=snapshot.pk).update(token_job=job)
            snapshot.token_job = job
    return snapshot


def snapshot_tokens_set(*, snapshot_id: int, token_count: int, tokenizer_model: str) -> None:
    DatasetSnapshot.objects.filter(pk=snapshot_id).update(token_count=token_count, tokenizer_model=tokenizer_model)


# ---- training runs --------------------------------------------------------------------------------------

def training_hyperparams_defaults(*, base_version: ModelVersion | None) -> dict:
    """The defaults proposed for a run on `base_version`: max length within what the model accepts, and a
    lower learning rate when the version carries an adapter (continue = merge, then a new LoRA)."""
    if base_version is None:
        return hyperparams_validate({})
    return training_hyperparams_clean(base_version=base_version, hyperparams={})


def training_hyperparams_clean(*, base_version: ModelVersion, hyperparams: dict | None) -> dict:
    """The one validation the form, the API and the service share (model-aware when the model is local)."""
    data = dict(hyperparams or {})
    if base_version.adapter_path and data.get("learning_rate") in (None, ""):
        data["learning_rate"] = CONTINUE_LEARNING_RATE
    return hyperparams_validate(data, model_config=model_config_read(base_version.base_model))


def _old_data_clean(*, base_version: ModelVersion, snapshot: DatasetSnapshot, fraction, seed: int) -> dict:
    """What a continued run mixes in from its parent's snapshot, counted now and recorded on the run."""
    import json

    from labelstudio_app.training.selectors import parent_snapshot_for_version
    from labelstudio_app.training.snapshots import old_data_pick

    try:
        fraction = float(fraction or 0)
    except (TypeError, ValueError):
        raise ValidationError({"old_data_fraction": _("Must be a number between 0 and 1.")}) from None
    if not 0 <= fraction <= 1:
        raise ValidationError({"old_data_fraction": _("Must be a number between 0 and 1.")})
    if fraction == 0:
        return {}
    parent = parent_snapshot_for_version(base_version=base_version)
    if parent is None:
        raise ValidationError({"old_data_fraction": _(
            "%(name)s was not made by a training run of this project, so there is no old data to mix in.")
            % {"name": base_version.name}})
    with open(snapshot_verify(snapshot=parent), encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    picked = old_data_pick(rows, fraction=fraction, seed=seed, exclude_item_ids=snapshot.heldout_item_ids)
    return {"snapshot_id": parent.pk, "snapshot_sha256": parent.sha256, "fraction": fraction, "seed": seed,
            "rows": len(picked)}


def training_run_create(*, project, user, base_version: ModelVersion, snapshot: DatasetSnapshot,
                        hyperparams: dict | None = None, save_merged: bool = False,
                        old_data_fraction: float = 0.0, heldout_scoring: str = "generate") -> TrainingRun:
    """Queues a LoRA fine-tune (admins only) on the `gpu` queue; the job is sent when the transaction commits.
    `old_data_fraction` (0–1, continuing from an adapter) adds that share of the parent run's snapshot rows,
    drawn with the run's seed, to the snapshot's rows. `heldout_scoring` is how the automatic held-out audit
    scores answers ("generate" or "likelihood")."""
    from labelstudio_app.audit.models import AuditRun

    if not R.is_admin(user):
        raise PermissionDenied(_("Only an admin may start a training run."))
    if base_version.project_id != project.pk:
        raise ValidationError({"base_version": _("Pick a model version of this project.")})
    if snapshot.project_id != project.pk:
        raise ValidationError({"snapshot": _("Pick a snapshot of this project.")})
    if base_version.backend == ModelVersion.Backend.OPENAI and model_config_read(base_version.base_model) is None:
        raise ValidationError({"base_version": _(
            "%(name)s is served by a remote OpenAI-compatible server and its base model is not a local folder; "
            "training needs the weights on a worker. Register it with base_model set to the local folder of the "
            "weights the server serves (and backend option `model` set to the served name).")
            % {"name": base_version.name}})
    if base_version.template_ok is False:
        raise ValidationError({"base_version": _(
            "%(name)s cannot be trained: its chat template cannot be masked (%(error)s). Register the model with "
            "a chat template that renders each assistant turn as its own span of tokens.")
            % {"name": base_version.name, "error": base_version.template_error}})
    if heldout_scoring not in AuditRun.Scoring.values:
        raise ValidationError({"heldout_scoring": _("choose one of %(all)s")
                               % {"all": ", ".join(AuditRun.Scoring.values)}})
    clean = training_hyperparams_clean(base_version=base_version, hyperparams=hyperparams)
    old_data = _old_data_clean(base_version=base_version, snapshot=snapshot, fraction=old_data_fraction,
                               seed=clean["seed"])
    with transaction.atomic():
        job = job_create(kind="training", user=user, project=project,
                         total=steps_estimate(snapshot.row_count + old_data.get("rows", 0), clean),
                         params={"snapshot_id": snapshot.pk, "base_version_id": base_version.pk,
                                 "then": {"name": "training.heldout_audit",
                                          "kwargs": {"scoring": heldout_scoring}}})
        return TrainingRun.objects.create(project=project, job=job, base_version=base_version, snapshot=snapshot,
                                          hyperparams=clean, save_merged=bool(save_merged), old_data=old_data,
                                          created_by=user)


@transaction.atomic
def training_run_loss_append(*, run_id: int, points: list, eta_seconds: float | None = None) -> None:
    """Takes the run's row lock; appends [step, loss] points (a step already recorded is replaced)."""
    run = TrainingRun.objects.select_for_update().only("loss_history").get(pk=run_id)
    new_steps = {p[0] for p in points}
    history = [p for p in run.loss_history if p[0] not in new_steps] + [list(p) for p in points]
    history.sort(key=lambda p: p[0])
    TrainingRun.objects.filter(pk=run_id).update(loss_history=history, eta_seconds=eta_seconds)


@transaction.atomic
def training_run_eval_loss_append(*, run_id: int, points: list) -> None:
    """Takes the run's row lock; records [step, eval loss] points on the held-out rows (a step is replaced)."""
    run = TrainingRun.objects.select_for_update().only("eval_loss_history").get(pk=run_id)
    new_steps = {p[0] for p in points}
    history = [p for p in run.eval_loss_history if p[0] not in new_steps] + [list(p) for p in points]
    TrainingRun.objects.filter(pk=run_id).update(eval_loss_history=sorted(history, key=lambda p: p[0]))


@transaction.atomic
def training_run_resume_at(*, run_id: int, step: int) -> None:
    """Takes the run's row lock; forgets loss points after `step` (a resumed run records them again)."""
    run = TrainingRun.objects.select_for_update().only("loss_history", "eval_loss_history").get(pk=run_id)
    TrainingRun.objects.filter(pk=run_id).update(loss_history=[p for p in run.loss_history if p[0] <= step],
                                                 eval_loss_history=[p for p in run.eval_loss_history if p[0] <= step])


def _version_name(run: TrainingRun) -> str:
    return f"{run.base_version.name[:150]} + LoRA run {run.pk}"


def training_run_version_register(*, run: TrainingRun, adapter_dir: str, base_model_dir: str,
                                  merged_dir: str | None, stats: dict) -> ModelVersion:
    """The run's new model version (parent: the base version). Idempotent: a redelivered job finds it."""
    from labelstudio_app.evaluation.services import model_version_create

    existing = ModelVersion.objects.filter(project=run.project, name=_version_name(run)).first()
    if existing is None:
        base = run.base_version
        options = dict(base.backend_options)
        if base.backend == ModelVersion.Backend.OPENAI:
            options["lora_name"] = f"flywheel-run-{run.pk}"  # the name the server loads the adapter under
        existing = model_version_create(
            project=run.project, user=run.created_by, name=_version_name(run), base_model=base_model_dir,
            adapter_path=adapter_dir, parent=base, backend=base.backend, backend_options=options,
            parameter_count=base.parameter_count, trust_remote_code=base.trust_remote_code,
            metadata={"training_run": run.pk, "snapshot_sha256": run.snapshot.sha256,
                      "hyperparams": run.hyperparams, "merged_weights": merged_dir or "", "train": stats},
        )
    TrainingRun.objects.filter(pk=run.pk).update(result_version=existing)
    run.result_version = existing
    return existing


def training_run_round_open(*, run: TrainingRun) -> object | None:
    """Generation on the snapshot's held-out items for the new version and its parent, then a blind round
    between them that opens when generation is done. Idempotent; None when the snapshot has no held-out items."""
    from labelstudio_app.review.services import round_create

    run.refresh_from_db(fields=["result_round", "result_version"])
    if run.result_round_id or run.result_version is None:
        return run.result_round
    item_ids = list(run.snapshot.heldout_item_ids or [])
    if not item_ids:
        return None
    with transaction.atomic():
        rnd = round_create(project=run.project, user=run.created_by,
                           name=f"{run.result_version.name} vs {run.base_version.name} (held-out)",
                           model_a=run.result_version, model_b=run.base_version, items=item_ids, generate=True,
                           params={"temperature": 0, "max_new_tokens": 64, "seed": 0})
        TrainingRun.objects.filter(pk=run.pk).update(result_round=rnd)
    run.result_round = rnd
    return rnd


def training_run_heldout_audit_start(*, job, scoring: str = "generate"):
    """Follow-up of a succeeded training job: a label audit of the base and the new version on the snapshot's
    held-out items only (never training items), asked with the prompt the model was trained on. Idempotent;
    None when there is nothing to audit (no held-out item, no single-choice question, no new version)."""
    from labelstudio_app.audit.models import AuditRun
    from labelstudio_app.audit.selectors import question_list_single_choice
    from labelstudio_app.audit.services import audit_run_create

    run = TrainingRun.objects.select_related("project", "snapshot", "base_version", "result_version").get(job=job)
    questions = question_list_single_choice(project=run.project)
    if run.heldout_audit_id or run.result_version is None or not run.snapshot.heldout_item_ids or not questions:
        return run.heldout_audit
    with transaction.atomic():
        try:
            audit = audit_run_create(
                project=run.project, user=run.created_by, question=questions[0]["name"],
                model_versions=[run.base_version, run.result_version], scope=AuditRun.Scope.HELDOUT,
                snapshot=run.snapshot, scoring=scoring, max_new_tokens=16,
                name=_("Held-out audit of training run %(id)s") % {"id": run.pk})
        except ValidationError:
            return None  # e.g. no held-out item carries a label for the question
        TrainingRun.objects.filter(pk=run.pk).update(heldout_audit=audit)
    return audit
