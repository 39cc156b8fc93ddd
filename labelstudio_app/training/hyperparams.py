"""LoRA hyper-parameters: defaults, help text and validation in ONE place.

Used by the form, the API serializer and the worker runner (workers/training/lora.py builds its config from
`LoraHyperparams`). Pure Python: no ORM, no torch. What needs the model itself (is a target module really in it?)
is checked again in the worker against the loaded model.
"""
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
PRECISIONS = ("auto", "bf16", "fp32")

# Linear layers LoRA can target, per architecture (config.json `model_type`). Used to refuse a typo in the
# form when the model is local; the worker checks the real module names of the loaded model as well.
KNOWN_TARGET_MODULES = {
    "qwen2": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    "qwen3": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    "llama": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    "mistral": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    "gemma": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    "gemma2": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    "phi3": ("qkv_proj", "o_proj", "gate_up_proj", "down_proj"),
    "gpt2": ("c_attn", "c_proj", "c_fc"),
}


def _hp(default, label, help_text, **bounds):
    kw = {"default_factory": lambda: list(default)} if isinstance(default, list) else {"default": default}
    return field(**kw, metadata={"label": label, "help": help_text, **bounds})


@dataclass
class LoraHyperparams:
    r: int = _hp(64, gettext_lazy("LoRA rank"),
               gettext_lazy("LoRA rank: the width of the low-rank update (8–64 is common)."), min=1, max=1024)
    alpha: int = _hp(16, gettext_lazy("LoRA alpha"),
                   gettext_lazy("LoRA alpha: the update is scaled by alpha / r."), min=1, max=4096)
    dropout: float = _hp(0.05, gettext_lazy("LoRA dropout"),
                       gettext_lazy("Dropout on the LoRA input during training."), min=0.0, max=0.9)
    target_modules: list = _hp([], gettext_lazy("Target modules"),
                             gettext_lazy("Linear layers to adapt; empty means every linear projection of the model."))
    learning_rate: float = _hp(2e-4, gettext_lazy("Learning rate"),
                             gettext_lazy("Peak learning rate of AdamW."), min_exclusive=0.0, max=1.0)
    lr_scheduler: str = _hp("linear", gettext_lazy("Learning-rate schedule"),
                          gettext_lazy("Learning-rate schedule after warm-up."), choices=SCHEDULERS)
    warmup_ratio: float = _hp(0.03, gettext_lazy("Warm-up share"),
                            gettext_lazy("Fraction of the steps spent warming the learning rate up."), min=0.0, max=0.5)
    epochs: int = _hp(1, gettext_lazy("Epochs"),
                    gettext_lazy("Passes over the snapshot (1–10; small snapshots need more)."), min=1, max=10)
    batch_size: int = _hp(8, gettext_lazy("Batch size"),
                        gettext_lazy("Examples per device per step."), min=1, max=1024)
    gradient_accumulation: int = _hp(1, gettext_lazy("Gradient accumulation steps"),
                                   gettext_lazy("Steps whose gradients are summed before an update."), min=1, max=1024)
    max_seq_length: int = _hp(1024, gettext_lazy("Maximum sequence length (tokens)"),
                            gettext_lazy("Longer examples are cut; at most the model's max_position_embeddings."), min=16, max=1_048_576)
    seed: int = _hp(42, gettext_lazy("Seed"),
                  gettext_lazy("Seed for shuffling and LoRA initialisation."), min=0, max=2**31 - 1)
    packing: bool = _hp(False, gettext_lazy("Packing"),
                      gettext_lazy("Pack several short examples into one sequence of max_seq_length."))
    precision: str = _hp("auto", gettext_lazy("Precision"),
                         gettext_lazy("auto: bfloat16 on a GPU that has it, float32 on a CPU. bf16 on a CPU with "
                                      "AVX512-BF16 or AMX is about 1.7x faster per step, but scored lower on "
                                      "held-out items in our measurements (docs/training.md)."), choices=PRECISIONS)
    save_steps: int = _hp(50, gettext_lazy("Checkpoint every (steps)"),
                        gettext_lazy("Checkpoint every N optimizer steps (a redelivered job resumes from the last)."), min=1, max=1_000_000)
    max_steps: int = _hp(0, gettext_lazy("Maximum steps"),
                       gettext_lazy("Stop after this many steps (0: run the epochs)."), min=0, max=10_000_000)

    def to_dict(self) -> dict:
        return asdict(self)


HYPERPARAM_FIELDS = {f.name: f for f in fields(LoraHyperparams)}
DEFAULTS = LoraHyperparams().to_dict()


def hyperparams_readable(values: dict) -> list[dict]:
    """A run's hyper-parameters as people read them: label, value, help; unknown keys keep their name."""
    rows = []
    for name, value in values.items():
        f = HYPERPARAM_FIELDS.get(name)
        shown = ", ".join(value) if isinstance(value, list) else value
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        if isinstance(value, list) and not value:
            shown = _("every linear layer") if name == "target_modules" else "—"
        rows.append({"name": name, "label": f.metadata["label"] if f else name, "value": shown,
                     "help": f.metadata["help"] if f else ""})
    return rows




def _coerce(name: str, value, kind):
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(_("must be true or false"))
    if kind is list:
        items = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
        return [str(v).strip() for v in items if str(v).strip()]
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(_("must be a whole number"))
        try:
            return int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
        except ValueError:
            raise ValueError(_("must be a whole number")) from None
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(_("must be a number")) from None
    return str(value).strip()


def _check_bounds(value, meta) -> str | None:
    if "choices" in meta and value not in meta["choices"]:
        return _("must be one of %(choices)s") % {"choices": ", ".join(meta["choices"])}
    if "min_exclusive" in meta and value <= meta["min_exclusive"]:
        return _("must be greater than %(min)s") % {"min": meta["min_exclusive"]}
    if "min" in meta and value < meta["min"]:
        return _("must be at least %(min)s") % {"min": meta["min"]}
    if "max" in meta and value > meta["max"]:
        return _("must be at most %(max)s") % {"max": meta["max"]}
    return None


def steps_estimate(n_rows: int, hp: dict, world_size: int = 1) -> int:
    """Optimizer steps a run will take (before packing): the progress total shown before the model loads."""
    if hp.get("max_steps"):
        return int(hp["max_steps"])
    per_epoch = math.ceil(max(1, n_rows) / (hp["batch_size"] * world_size))
    return max(1, math.ceil(per_epoch / hp["gradient_accumulation"]) * hp["epochs"])


def model_config_read(base_model: str) -> dict | None:
    """config.json of a local model folder under the model roots, read without torch; None for a hub id."""
    path = Path(base_model)
    if not path.is_absolute():
        return None
    resolved = path.resolve()
    roots = [Path(r).resolve() for r in settings.MODEL_ROOTS]
    if not any(resolved == r or r in resolved.parents for r in roots):
        return None
    try:
        return json.loads((resolved / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def hyperparams_validate(data: dict | None, *, model_config: dict | None = None) -> dict:
    """Returns the full, clean hyper-parameters (defaults filled in) or raises ValidationError keyed by each bad
    field. `model_config` (a config.json) adds the checks that need the model: max length, module names."""
    data = dict(data or {})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(HYPERPARAM_FIELDS))
    for name in unknown:
        errors.setdefault(name, []).append(_("unknown hyper-parameter"))
    clean = {}
    for name, f in HYPERPARAM_FIELDS.items():
        kind = f.type
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and raw.strip() == "" and kind is not list and kind is not bool):
            clean[name] = DEFAULTS[name]
            continue
        try:
            value = _coerce(name, raw, kind)
        except ValueError as exc:
            errors.setdefault(name, []).append(_("%(problem)s (%(value)r)") % {"problem": exc, "value": raw})
            continue
        problem = _check_bounds(value, f.metadata) if kind is not list and kind is not bool else None
        if problem:
            errors.setdefault(name, []).append(_("%(problem)s (%(value)s)") % {"problem": problem, "value": value})

        clean[name] = value
    if model_config:
        limit = model_config.get("max_position_embeddings")
        if data.get("max_seq_length") in (None, "") and isinstance(limit, int):
            clean["max_seq_length"] = min(clean["max_seq_length"], limit)  # the default adapts; a choice does not
        _check_against_model(clean, model_config, errors)
    if errors:
        raise ValidationError(errors)
    return clean


def _check_against_model(clean: dict, config: dict, errors: dict) -> None:
    limit = config.get("max_position_embeddings")
    length = clean.get("max_seq_length")
    if isinstance(limit, int) and isinstance(length, int) and length > limit:
        errors.setdefault("max_seq_length", []).append(
            _("%(n)s is beyond the model's max_position_embeddings (%(limit)s)") % {"n": length, "limit": limit})
    known = KNOWN_TARGET_MODULES.get(config.get("model_type", ""))
    if known:
        bad = [m for m in clean.get("target_modules") or [] if m not in known]
        if bad:
            errors.setdefault("target_modules", []).append(
                _("unknown module(s) %(bad)s for a %(type)s model; known: %(known)s")
                % {"bad": ", ".join(bad), "type": config.get("model_type"), "known": ", ".join(known)})
