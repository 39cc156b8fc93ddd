"""Checks on model files, without torch: where they may live, that weights are safetensors, how many
parameters they hold (the safetensors header is JSON), and whether a chat template ships with them."""
import contextlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
UNSAFE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.pickle")
MAX_HEADER = 100 * 1024 * 1024  # bytes; a safetensors header larger than this is not one


@dataclass
class ModelInfo:
    """What registration learned about a base model or an adapter."""

    path: str  # the resolved local path, or the hub id as given
    local: bool
    parameter_count: int | None = None
    chat_template: bool | None = None  # None: not checked (hub id)
    warnings: list[str] = field(default_factory=list)


def is_hub_id(value: str) -> bool:
    return bool(HUB_ID.match(value)) and not value.startswith((".", "/")) and ".." not in value


def model_roots() -> list[Path]:
    return [Path(os.path.realpath(p)) for p in settings.MODEL_ROOTS]


def _artifact_owner_check(real: Path, *, project_id: int, field_name: str, raw: str) -> None:
    """Under ARTIFACTS_DIR, only `models/` (the offline demo models) is shared; `adapters/<run id>` and
    `training/<run id>` belong to the training run's project; nothing else there is a model folder."""
    artifacts = Path(os.path.realpath(settings.ARTIFACTS_DIR))
    if real != artifacts and artifacts not in real.parents:
        return  # a shared model root (FLYWHEEL_MODEL_ROOTS)
    parts = real.relative_to(artifacts).parts
    if parts[:1] == ("models",) and len(parts) > 1:
        return
    if len(parts) > 1 and parts[0] in ("adapters", "training") and parts[1].isdigit():
        from labelstudio_app.training.models import TrainingRun

        if TrainingRun.objects.filter(pk=int(parts[1]), project_id=project_id).exists():
            return
    raise ValidationError({field_name: _("%(path)s is not a model folder of this project: a project loads only "
                                         "its own training artifacts and the shared model roots.") % {"path": raw}})


def path_resolve_in_roots(value: str, *, field_name: str, project_id: int) -> Path:
    """The real path of `value` if it lies under one of settings.MODEL_ROOTS; refuses `..` and symlinks
    that lead out of the roots (the check is on the fully resolved path), and another project's artifacts."""
    raw = value.strip()
    if not raw:
        raise ValidationError({field_name: _("A path is required.")})
    if ".." in Path(raw).parts:
        raise ValidationError({field_name: _("'..' is not allowed in a model path: %(path)s") % {"path": raw}})
    if not os.path.isabs(raw):
        raise ValidationError({field_name: _("Use an absolute path under the model roots: %(path)s") % {"path": raw}})
    real = Path(os.path.realpath(raw))
    roots = model_roots()
    if not any(real == root or root in real.parents for root in roots):
        raise ValidationError({field_name: _("%(path)s is outside the allowed model roots (%(roots)s).")
                               % {"path": raw, "roots": ", ".join(map(str, roots))}})
    _artifact_owner_check(real, project_id=project_id, field_name=field_name, raw=raw)
    if not real.is_dir():
        raise ValidationError({field_name: _("%(path)s is not a folder.") % {"path": raw}})
    return real


def _hub_id_check(raw: str) -> None:
    if not settings.ALLOW_HUB_MODELS:
        raise ValidationError({"base_model": _(
            "%(id)s looks like a hub id; hub models are not allowed here (an admin can allow them with "
            "FLYWHEEL_ALLOW_HUB_MODELS). Use an absolute path under the model roots.") % {"id": raw}})


def base_model_resolve_for_worker(value: str, *, project_id: int) -> str:
    """What the worker hands to from_pretrained: a folder checked against the roots, or an allowed hub id
    (refused when a folder of that name exists where the worker runs, which would load instead)."""
    raw = value.strip()
    if is_hub_id(raw) and not os.path.isabs(raw):
        _hub_id_check(raw)
        if os.path.exists(raw):
            raise ValidationError({"base_model": _("%(id)s names a folder in the worker's directory as well as a "
                                                   "hub id; refusing to guess which to load.") % {"id": raw}})
        return raw
    return str(path_resolve_in_roots(raw, field_name="base_model", project_id=project_id))


def _refuse_unsafe_weights(folder: Path, *, field_name: str) -> list[Path]:
    tensors = sorted(folder.glob("*.safetensors"))
    if not tensors:
        unsafe = [p.name for pattern in UNSAFE_WEIGHTS for p in folder.glob(pattern)]
        if unsafe:
            raise ValidationError({field_name: _(
                "%(path)s has weights only in pickle formats (%(files)s); weights load only from safetensors. "
                "Convert them with save_pretrained(safe_serialization=True).") % {"path": folder, "files": ", ".join(unsafe)}})
        raise ValidationError({field_name: _("%(path)s holds no .safetensors weights.") % {"path": folder}})
    return tensors


def safetensors_parameter_count(path: Path) -> int:
    """Sum of the element counts of every tensor, read from the JSON header only."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) != 8:
            raise ValueError(f"{path.name}: not a safetensors file (too short)")
        (size,) = struct.unpack("<Q", head)
        if size > MAX_HEADER:
            raise ValueError(f"{path.name}: not a safetensors file (header of {size} bytes)")
        header = json.loads(fh.read(size))
    total = 0
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dim in meta["shape"]:
            count *= int(dim)
        total += count
    return total


def _config_parameter_estimate(config: dict) -> int | None:
    """A rough count from config.json when no weights are readable (decoder-only transformer)."""
    try:
        h, layers, vocab = config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]
        inter = config.get("intermediate_size", 4 * h)
    except (KeyError, TypeError):
        return None
    per_layer = 4 * h * h + 3 * h * inter
    embeddings = vocab * h * (1 if config.get("tie_word_embeddings", True) else 2)
    return int(layers * per_layer + embeddings)


def chat_template_present(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    tok_config = folder / "tokenizer_config.json"
    if tok_config.is_file():
        try:
            return bool(json.loads(tok_config.read_text(encoding="utf-8")).get("chat_template"))
        except (ValueError, OSError):
            return False
    return False


def base_model_inspect(value: str, *, project_id: int, needs_files: bool = True) -> ModelInfo:
    """Checks a base model given as a local folder (under the roots, the project's own or shared;
    safetensors, config, chat template) or a hub id where allowed (stored as given; never fetched here)."""
    raw = value.strip()
    if not raw:
        raise ValidationError({"base_model": _("A base model is required.")})
    if is_hub_id(raw) and not os.path.isabs(raw):
        _hub_id_check(raw)
        return ModelInfo(path=raw, local=False, warnings=[_("Hub id: not checked here; the worker loads it.")])
    folder = path_resolve_in_roots(raw, field_name="base_model", project_id=project_id)
    info = ModelInfo(path=str(folder), local=True)
    if not needs_files:
        return info
    if not (folder / "config.json").is_file():
        raise ValidationError({"base_model": _("%(path)s has no config.json.") % {"path": folder}})
    tensors = _refuse_unsafe_weights(folder, field_name="base_model")
    try:
        info.parameter_count = sum(safetensors_parameter_count(p) for p in tensors)
    except (ValueError, OSError, KeyError) as exc:
        info.warnings.append(_("Could not read the weights header: %(error)s") % {"error": exc})
        with contextlib.suppress(ValueError, OSError):
            info.parameter_count = _config_parameter_estimate(json.loads((folder / "config.json").read_text()))
    info.chat_template = chat_template_present(folder)
    if not info.chat_template:
        raise ValidationError({"base_model": _(
            "%(path)s has no chat template (tokenizer_config.json 'chat_template' or chat_template.jinja); "
            "generation renders every prompt with it.") % {"path": folder}})
    return info


def adapter_inspect(value: str, *, project_id: int) -> ModelInfo:
    """Checks a PEFT LoRA adapter folder: under the roots (the project's own or shared), adapter_config.json,
    safetensors weights."""
    folder = path_resolve_in_roots(value, field_name="adapter_path", project_id=project_id)
    if not (folder / "adapter_config.json").is_file():
        raise ValidationError({"adapter_path": _("%(path)s has no adapter_config.json (not a PEFT adapter).")
                               % {"path": folder}})
    if not (folder / "adapter_model.safetensors").is_file():
        _refuse_unsafe_weights(folder, field_name="adapter_path")
        raise ValidationError({"adapter_path": _("%(path)s has no adapter_model.safetensors.") % {"path": folder}})
    info = ModelInfo(path=str(folder), local=True)
    try:
        info.parameter_count = safetensors_parameter_count(folder / "adapter_model.safetensors")
    except (ValueError, OSError, KeyError) as exc:
        info.warnings.append(_("Could not read the adapter weights header: %(error)s") % {"error": exc})
    info.chat_template = chat_template_present(folder) or None
    return info
