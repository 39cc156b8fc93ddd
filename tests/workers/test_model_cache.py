"""The worker's backend cache is bounded and evicts the least recently used backend, closing it."""
from workers.generation import backends
from workers.generation.base import ModelSpec


def _spec(n: int) -> ModelSpec:
    return ModelSpec(base_model=f"model-{n}", backend="openai", options={"base_url": f"http://127.0.0.1:1820{n}/v1"})


def test_it_keeps_at_most_the_configured_number_of_models_and_closes_the_evicted(monkeypatch):
    backends.backends_close()
    monkeypatch.setenv("FLYWHEEL_MODEL_CACHE_SIZE", "2")
    try:
        first, second = backends.load_backend(_spec(1)), backends.load_backend(_spec(2))
        assert backends.load_backend(_spec(1)) is first  # a hit makes it the most recently used
        third = backends.load_backend(_spec(3))
        assert second.client.is_closed and not first.client.is_closed and not third.client.is_closed
        assert backends.cached_keys() == [backends.backend_key(_spec(1)), backends.backend_key(_spec(3))]
        assert backends.load_backend(_spec(2)) is not second  # loaded again, fresh
    finally:
        backends.backends_close()


def test_it_holds_one_model_by_default(monkeypatch):
    backends.backends_close()
    monkeypatch.delenv("FLYWHEEL_MODEL_CACHE_SIZE", raising=False)
    try:
        first = backends.load_backend(_spec(1))
        backends.load_backend(_spec(2))
        assert first.client.is_closed and len(backends.cached_keys()) == 1
    finally:
        backends.backends_close()
