"""`load_backend(spec) -> Backend`: one loaded backend per (backend, base model, options) per worker process.

Several jobs, and several model versions that are adapters on one base, share it: adapters are per
request (`GenerationRequest.adapter`), so the base weights load once. Each backend module imports its heavy
library (torch, vllm, httpx) only when chosen.

The cache holds at most `FLYWHEEL_MODEL_CACHE_SIZE` backends (default 1: one full model in memory per worker);
loading another closes the least recently used one and frees its memory. A worker runs one job at a time and a
job uses one backend after the other, so no job is left holding a closed one.
"""
import contextlib
import gc
import json
import os
import threading
from collections import OrderedDict

from workers.generation.base import Backend, ModelSpec

_cache: "OrderedDict[str, Backend]" = OrderedDict()
_lock = threading.Lock()


def cache_size() -> int:
    try:
        return max(1, int(os.environ.get("FLYWHEEL_MODEL_CACHE_SIZE") or 1))
    except ValueError:
        return 1


def _close(backend: Backend) -> None:
    with contextlib.suppress(Exception):  # closing is best effort
        backend.close()


def backend_key(spec: ModelSpec) -> str:
    return json.dumps([spec.backend, spec.base_model, bool(spec.trust_remote_code), spec.options],
                      sort_keys=True, default=str)


def _build(spec: ModelSpec) -> Backend:
    if spec.backend == "transformers":
        from workers.generation.transformers_backend import TransformersBackend

        return TransformersBackend(spec)
    if spec.backend == "vllm":
        from workers.generation.vllm_backend import VllmBackend

        return VllmBackend(spec)
    if spec.backend == "openai":
        from workers.generation.openai_backend import OpenAIBackend

        return OpenAIBackend(spec)
    raise ValueError(f"unknown backend {spec.backend!r}: use transformers, vllm or openai")


def load_backend(spec: ModelSpec) -> Backend:
    """The cached backend for this spec's base model (the spec's adapter is not part of the key)."""
    key = backend_key(spec)
    with _lock:
        backend = _cache.get(key)
        if backend is not None:
            _cache.move_to_end(key)
            return backend
        # Make room before loading, so two full models are never in memory at once.
        evicted = False
        while len(_cache) >= cache_size():
            _close(_cache.popitem(last=False)[1])
            evicted = True
        if evicted:
            _free_memory()
        backend = _cache[key] = _build(spec)
        return backend


def cached_keys() -> list[str]:
    """The cache keys, least recently used first."""
    with _lock:
        return list(_cache)


def _free_memory() -> None:
    gc.collect()
    with contextlib.suppress(ImportError):
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def backends_close() -> None:
    """Frees every cached backend (tests, and a worker that must hand its memory back)."""
    with _lock:
        for backend in _cache.values():
            _close(backend)
        _cache.clear()
    _free_memory()
