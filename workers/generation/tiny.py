"""The `tiny_model` job: builds the offline demo model and registers it as a model version.

Idempotent: an existing model folder is reused and an existing version of the same name is returned.
"""
import shutil
from pathlib import Path

from django.conf import settings

from labelstudio_app.evaluation.selectors import model_version_get_by_name
from labelstudio_app.evaluation.services import model_version_create
from workers.tiny_model import build_tiny_model

TINY_NAME = "tiny-chat (demo)"


def tiny_model_dir() -> Path:
    return Path(settings.ARTIFACTS_DIR) / "models" / "tiny-chat"


def tiny_model_run(ctx) -> dict:
    steps = int(ctx.params.get("pretrain_steps", 300))
    name = ctx.params.get("name") or TINY_NAME
    out = tiny_model_dir()
    ctx.progress(done=0, total=2, message="building the tiny model")
    if not ((out / "config.json").is_file() and (out / "model.safetensors").is_file()):
        # Build beside it and move into place, so a killed build never leaves a half-written model.
        tmp = out.with_name(out.name + ".building")
        shutil.rmtree(tmp, ignore_errors=True)
        build_tiny_model(tmp, pretrain_steps=steps)
        shutil.rmtree(out, ignore_errors=True)
        tmp.replace(out)
        ctx.log(f"built the tiny model in {out} ({steps} pretraining steps)")
    ctx.progress(done=1, message="registering the model version")
    existing = model_version_get_by_name(project_id=ctx.job.project_id, name=name)
    if existing is None:
        existing = model_version_create(project=ctx.job.project, user=ctx.job.created_by, name=name,
                                        base_model=str(out), metadata={"demo": True, "pretrain_steps": steps})
    return {"model_version_id": existing.pk, "path": str(out)}
