"""`load_backend(spec) -> Backend`: one loaded backend per (backend, base model, options) per worker process.

Several jobs, and several model versions that are adapters on one base, share it: adapters are per
request (`GenerationRequest.adapter`), so the base weights load once. Each backend module imports its heavy
library (torch, vllm, httpx) only when chosen.
"""
import contextlib
import json
import threading

from workers.generation.base import Backend, ModelSpec

_cache: dict[str, Backend] = {}
_lock = threading.Lock()


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
        if backend is None:
            backend = _cache[key] = _build(spec)
        return backend


def backends_close() -> None:
    """Frees every cached backend (tests, and a worker that must hand its memory back)."""
    with _lock:
        for backend in _cache.values():
            with contextlib.suppress(Exception):  # closing is best effort
                backend.close()
        _cache.clear()
