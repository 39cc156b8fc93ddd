"""The GPU paths: the same code as on the CPU, on CUDA. Skipped without a CUDA device (tests/conftest.py);
run them where a GPU machine is lent (`pytest -m gpu`)."""
import pytest

from labelstudio_app.training.hyperparams import LoraHyperparams
from workers.generation.backends import backends_close, load_backend
from workers.generation.base import GenerationRequest, ModelSpec, SamplingParams
from workers.tiny_model import corpus
from workers.training.lora import TrainConfig, train

pytestmark = pytest.mark.gpu


def test_it_generates_in_batches_on_cuda(tiny_model_dir):
    backend = load_backend(ModelSpec(base_model=str(tiny_model_dir), options={"device": "cuda"}))
    try:
        requests = [GenerationRequest(messages=[{"role": "user", "content": f"问题 {i}"}],
                                      params=SamplingParams(max_new_tokens=8, seed=i)) for i in range(16)]
        results = backend.generate(requests)
    finally:
        backends_close()
    assert len(results) == 16 and all(r.completion_tokens > 0 for r in results)


def test_it_trains_a_lora_adapter_on_cuda_and_the_loss_falls(tiny_model_dir, tmp_path):
    hp = LoraHyperparams(r=8, alpha=16, learning_rate=5e-3, epochs=2, batch_size=8, max_seq_length=128)
    config = TrainConfig(base_model=str(tiny_model_dir), output_dir=str(tmp_path / "ckpt"),
                         adapter_dir=str(tmp_path / "adapter"), hyperparams=hp)
    result = train(config, corpus(n=200), log=lambda _text: None)
    first, last = result.losses[0][1], result.losses[-1][1]
    assert last < first and (tmp_path / "adapter" / "adapter_model.safetensors").exists()
