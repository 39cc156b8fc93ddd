"""The `training` job: glue between the Job / TrainingRun rows and the pure LoRA runner (workers/training/lora.py).

    verify the snapshot's sha256 -> train (resuming from the last checkpoint of an earlier attempt) ->
    adapter under ARTIFACTS_DIR/adapters/<run id>/ -> new model version (parent: the base) ->
    tell the serving backend -> generation on the held-out items + a blind round new vs parent.

Every step is idempotent, so a redelivered job after a worker death only does what is still missing.
"""
import json
import time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from labelstudio_app.evaluation.services import model_version_template_record
from labelstudio_app.jobs.services import JobFailed
from labelstudio_app.training import selectors, services
from labelstudio_app.training.hyperparams import LoraHyperparams
from labelstudio_app.training.models import TrainingRun
from labelstudio_app.training.snapshots import old_data_pick
from workers.models.template import template_check
from workers.training import lora
from workers.training.serving import adapter_announce

FLUSH_SECONDS = 1.0


def run_dirs(run_id: int) -> dict:
    root = Path(settings.ARTIFACTS_DIR)
    work = root / "training" / str(run_id)
    return {"checkpoints": work / "checkpoints", "merged_base": work / "merged-base",
            "adapter": root / "adapters" / str(run_id)}


class _Reporter:
    """Turns runner steps into job progress (each step: heartbeat + cancel check) and loss points (batched)."""

    def __init__(self, ctx, run_id: int, save_steps: int):
        self.ctx, self.run_id, self.save_steps = ctx, run_id, save_steps
        self.pending: list = []
        self.last_flush = 0.0
        self.eta = None

    def __call__(self, info: lora.StepInfo) -> None:
        if info.loss is not None:
            lr = float(f"{info.learning_rate:.4g}") if info.learning_rate is not None else None
            self.pending.append([info.step, round(info.loss, 5), lr])
        self.eta = info.eta_seconds
        # Flushed at least at every checkpoint step (the Trainer logs before it saves), so the points up to a
        # checkpoint a resumed run starts from are always stored.
        if (time.monotonic() - self.last_flush >= FLUSH_SECONDS or info.step >= info.total_steps
                or info.step % self.save_steps == 0):
            self.flush()
        message = _("step %(step)s/%(total)s") % {"step": info.step, "total": info.total_steps}
        if info.loss is not None:
            message += " · " + _("loss %(loss).4f") % {"loss": info.loss}
        if info.eta_seconds is not None:
            message += " · " + _("about %(s)s s left") % {"s": int(info.eta_seconds)}
        # Raises JobCancelled when a user asked to stop: the runner stops between steps.
        self.ctx.progress(done=info.step, total=info.total_steps, message=message)

    def flush(self) -> None:
        if self.pending:
            services.training_run_loss_append(run_id=self.run_id, points=self.pending, eta_seconds=self.eta)
            self.pending = []
        self.last_flush = time.monotonic()


def _eval_conversations(run: TrainingRun) -> list:
    path = services.snapshot_heldout_verify(snapshot=run.snapshot)
    return lora.read_jsonl_conversations(path) if path else []


def _old_data(ctx, run: TrainingRun) -> list:
    """The parent snapshot's rows the run mixes in, drawn again with the recorded seed (the same rows the
    service counted), from a file whose hash still matches."""
    spec = run.old_data or {}
    if not spec.get("rows"):
        return []
    parent = selectors.snapshot_get_for_job(snapshot_id=spec["snapshot_id"])
    with open(services.snapshot_verify(snapshot=parent), encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    picked = old_data_pick(rows, fraction=spec["fraction"], seed=spec["seed"],
                           exclude_item_ids=run.snapshot.heldout_item_ids)
    ctx.log(f"mixing in {len(picked)} row(s) of the parent run's snapshot {parent.name} "
            f"({spec['fraction']:.0%}, seed {spec['seed']})")
    return [lora.row_messages(row) for row in picked]


def _template_check(ctx, run: TrainingRun) -> None:
    """The base's chat template checked again before any work: a version registered before the check, or
    whose files changed since, fails here with the reason, not mid-training."""
    error = template_check(run.base_version)
    if run.base_version.template_ok is not (error is None):
        model_version_template_record(model_version_id=run.base_version_id, error=error)
    if error:
        raise JobFailed(f"{run.base_version.name} cannot be trained: its chat template cannot be masked ({error}).")


def _train(ctx, run: TrainingRun, dirs: dict, data_path: Path) -> lora.TrainResult:
    base = run.base_version
    hp = LoraHyperparams(**run.hyperparams)
    checkpoint, step = lora.last_checkpoint(dirs["checkpoints"])
    if checkpoint is not None:
        ctx.log(f"attempt {ctx.job.attempts}: resuming from {checkpoint.name} (step {step})")
        services.training_run_resume_at(run_id=run.pk, step=step)
    config = lora.TrainConfig(
        base_model=base.base_model, output_dir=str(dirs["checkpoints"]), adapter_dir=str(dirs["adapter"]),
        hyperparams=hp, continue_from_adapter=base.adapter_path or None,
        merged_base_dir=str(dirs["merged_base"]) if base.adapter_path else None, save_merged=run.save_merged,
        trust_remote_code=base.trust_remote_code,
        metadata={"snapshot_sha256": run.snapshot.sha256, "snapshot_id": run.snapshot_id, "training_run": run.pk,
                  "base_version": base.name, "project": run.project_id},
    )
    reporter = _Reporter(ctx, run.pk, hp.save_steps)

    def on_eval(step: int, loss: float) -> None:
        services.training_run_eval_loss_append(run_id=run.pk, points=[[int(step), round(float(loss), 5)]])

    conversations = lora.read_jsonl_conversations(data_path) + _old_data(ctx, run)
    try:
        result = lora.train(config, conversations, eval_conversations=_eval_conversations(run), on_step=reporter,
                            on_eval=on_eval, log=ctx.log)
    except lora.TrainingError as exc:  # input the user can fix: its message, no traceback
        raise JobFailed(str(exc)) from None
    finally:
        reporter.flush()
    if result.eval_losses:  # the runner's own record wins over what the callback stored, step by step
        services.training_run_eval_loss_append(run_id=run.pk, points=[list(p) for p in result.eval_losses])
    ctx.log(f"trained {result.steps} steps ({result.examples} sequences, {result.train_tokens} tokens, "
            f"{result.tokens_per_second:.0f} tokens/s); adapter in {result.adapter_dir}")
    return result


def training_run(ctx) -> dict:
    run = selectors.training_run_get_for_job(job=ctx.job)
    data_path = services.snapshot_verify(snapshot=run.snapshot)  # refuses a tampered file, before any work
    ctx.log(f"snapshot {run.snapshot.name} verified (sha256 {run.snapshot.sha256[:12]}…, {run.snapshot.row_count} rows)")
    dirs = run_dirs(run.pk)
    stats: dict = {}
    if (dirs["adapter"] / "flywheel.json").exists() and run.result_version_id is None and ctx.job.attempts > 1:
        ctx.log("the adapter of an earlier attempt is complete; registering it")
        base_dir = str(dirs["merged_base"]) if run.base_version.adapter_path else run.base_version.base_model
        merged = dirs["adapter"] / "merged"
        result_paths = (str(dirs["adapter"]), base_dir, str(merged) if merged.exists() else None)
    elif run.result_version_id is None:
        _template_check(ctx, run)
        result = _train(ctx, run, dirs, data_path)
        stats = {k: v for k, v in result.to_dict().items() if k not in ("losses", "eval_losses")}
        result_paths = (result.adapter_dir, result.base_model_dir, result.merged_dir)
    if run.result_version_id is None:
        services.training_run_version_register(run=run, adapter_dir=result_paths[0], base_model_dir=result_paths[1],
                                               merged_dir=result_paths[2], stats=stats)
        ctx.log(f"registered model version {run.result_version.name}")
    version = run.result_version or selectors.training_run_get_for_job(job=ctx.job).result_version
    announced = adapter_announce(version, log=ctx.log)
    rnd = services.training_run_round_open(run=run)
    ctx.log(f"blind round {rnd.name!r} created; it opens when generation is done" if rnd
            else "the snapshot has no held-out items: no comparison round")
    return {"model_version_id": version.pk, "adapter_path": version.adapter_path, "announced": announced,
            "round_id": rnd.pk if rnd else None, **stats}

