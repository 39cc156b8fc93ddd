"""Sampling parameters: one validated, canonical form, and its hash (part of a candidate's natural key).

The defaults are those of `workers.generation.base.SamplingParams`, repeated here because the web process
must not import `workers` (which is allowed to import torch); tests/evaluation/test_params.py checks that
both stay equal.
"""
import hashlib
import json
import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# name -> (type, default, minimum, maximum)
FIELDS: dict[str, tuple[type, object, float | None, float | None]] = {
    "temperature": (float, 0.7, 0.0, 5.0),
    "top_p": (float, 1.0, 0.0, 1.0),
    "top_k": (int, 0, 0, 100_000),
    "repetition_penalty": (float, 1.0, 0.01, 10.0),
    "no_repeat_ngram_size": (int, 0, 0, 100),
    "max_new_tokens": (int, 256, 1, 32_768),
    "seed": (int, None, 0, 2**31 - 1),
}
DEFAULTS = {name: spec[1] for name, spec in FIELDS.items()}


def _coerce(name: str, value, kind: type):
    if isinstance(value, bool):
        raise ValidationError(_("%(field)s: expected a number, got %(value)r.") % {"field": name, "value": value},
                              code="invalid")
    if isinstance(value, str):
        value = value.strip()
    try:
        if kind is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        return number
    except (TypeError, ValueError):
        expected = _("a whole number") if kind is int else _("a number")
        raise ValidationError(_("%(field)s: expected %(expected)s, got %(value)r.")
                              % {"field": name, "expected": expected, "value": value}, code="invalid") from None


def params_normalise(params: dict | None) -> dict:
    """Validated sampling parameters with every field present (defaults filled in), in a fixed order.

    Raises ValidationError naming the field on an unknown name, a wrong type or a value out of range.
    `seed` may be None (the job then derives per-sample seeds from the item and sample index only).
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(FIELDS))
    if unknown:
        raise ValidationError(_("Unknown sampling parameter(s): %(names)s. Known: %(known)s.")
                              % {"names": ", ".join(unknown), "known": ", ".join(FIELDS)}, code="unknown")
    out = {}
    for name, (kind, default, low, high) in FIELDS.items():
        value = params.get(name, default)
        if value is None or value == "":
            if default is not None:
                value = default
            else:
                out[name] = None
                continue
        value = _coerce(name, value, kind)
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValidationError(_("%(field)s: %(value)s is out of range (%(low)s to %(high)s).")
                                  % {"field": name, "value": value, "low": low, "high": high}, code="range")
        out[name] = value
    if out["top_p"] == 0:
        raise ValidationError(_("top_p: must be greater than 0 (1 means off)."), code="range")
    return out


# Backend options with numeric bounds (ModelVersion.backend_options): name -> (type, minimum, maximum). A job
# must stay cancellable and must not hold the worker for hours on one request.
BACKEND_BOUNDS: dict[str, tuple[type, float, float]] = {
    "timeout": (float, 1.0, 600.0),
    "max_retries": (int, 0, 5),
    "concurrency": (int, 1, 32),
    "batch_size": (int, 1, 256),
}
DTYPES = ("auto", "float32", "float16", "bfloat16")


def backend_option_check(name: str, value):
    """Refuses a bounded backend option out of range, or a dtype not in DTYPES; returns the value."""
    if name == "dtype":
        if value not in DTYPES:
            raise ValidationError(_("dtype: %(value)r is not one of %(known)s.")
                                  % {"value": value, "known": ", ".join(DTYPES)}, code="invalid")
        return value
    if name in BACKEND_BOUNDS:
        kind, low, high = BACKEND_BOUNDS[name]
        value = _coerce(name, value, kind)
        if not low <= value <= high:
            raise ValidationError(_("%(field)s: %(value)s is out of range (%(low)s to %(high)s).")
                                  % {"field": name, "value": value, "low": low, "high": high}, code="range")
    return value


def params_hash(params: dict) -> str:
    """sha256 hex of the canonical JSON of the normalised parameters."""
    canonical = json.dumps(params_normalise(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
