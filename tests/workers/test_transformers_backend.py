"""The transformers backend on the tiny model, on the CPU: batching, seeds, EOS and token counts, adapters."""
import itertools
import json
import shutil

import pytest

from tests.evaluation.fixtures import tiny_adapter_root, tiny_model_root  # noqa: F401
from workers.generation.backends import backends_close, load_backend
from workers.generation.base import GenerationRequest, ModelSpec, SamplingParams

PROMPTS = ["怎么把 mmpose 部署到 TX2？", "LoRA 的 rank 应该怎么选？一般数据少就小一点吗", "Does ncnn run on RK3588?"]


@pytest.fixture(scope="module")
def backend(tiny_model_root):  # noqa: F811
    b = load_backend(ModelSpec(base_model=str(tiny_model_root)))
    yield b
    backends_close()


def _req(prompt, adapter=None, **params):
    return GenerationRequest(messages=[{"role": "user", "content": prompt}],
                             params=SamplingParams(**{"max_new_tokens": 12, **params}), adapter=adapter)


def test_it_is_cached_per_base_model(backend, tiny_model_root, tiny_adapter_root):  # noqa: F811
    again = load_backend(ModelSpec(base_model=str(tiny_model_root), adapter_path=str(tiny_adapter_root)))
    assert again is backend


def test_it_gives_a_request_the_same_answer_alone_or_in_a_batch(backend):
    batch = backend.generate([_req(p, seed=i, temperature=1.0, top_k=50, top_p=0.95) for i, p in enumerate(PROMPTS)])
    alone = [backend.generate([_req(p, seed=i, temperature=1.0, top_k=50, top_p=0.95)])[0]
             for i, p in enumerate(PROMPTS)]
    assert [r.text for r in batch] == [r.text for r in alone]
    assert [r.prompt_tokens for r in batch] == [r.prompt_tokens for r in alone]  # padding is not counted


def test_it_draws_different_samples_for_different_seeds(backend):
    texts = [r.text for r in backend.generate([_req(PROMPTS[0], seed=s, temperature=1.0) for s in (1, 2, 3, 1)])]
    assert texts[0] == texts[3] and len(set(texts)) == 3


def test_it_counts_prompt_tokens_from_the_chat_template(backend):
    [res] = backend.generate([_req(PROMPTS[0], temperature=0)])
    text = backend.tokenizer.apply_chat_template([{"role": "user", "content": PROMPTS[0]}],
                                                 add_generation_prompt=True, tokenize=False)
    assert res.prompt_tokens == len(backend.tokenizer.encode(text, add_special_tokens=False))
    assert res.completion_tokens == 12 and res.finish_reason == "length"


def test_it_stops_at_eos_and_counts_it_but_not_the_padding(tiny_model_root, tmp_path):  # noqa: F811
    plain = load_backend(ModelSpec(base_model=str(tiny_model_root)))
    [greedy] = plain.generate([_req(PROMPTS[0], temperature=0, max_new_tokens=10)])
    ids = greedy.token_ids
    assert len(ids) == greedy.completion_tokens == 10
    stop_token = ids[3]
    # A copy of the model whose generation config also ends on that token: the greedy answer now stops there.
    model = tmp_path / "eos-model"
    shutil.copytree(tiny_model_root, model)
    gen = json.loads((model / "generation_config.json").read_text())
    gen["eos_token_id"] = [gen["eos_token_id"], stop_token] if isinstance(gen["eos_token_id"], int) else \
        [*gen["eos_token_id"], stop_token]
    (model / "generation_config.json").write_text(json.dumps(gen))
    from workers.generation.transformers_backend import TransformersBackend

    # Built outside the cache: the cache holds one model and would close the module's backend to make room.
    b = TransformersBackend(ModelSpec(base_model=str(model)))
    results = b.generate([_req(PROMPTS[0], temperature=0, max_new_tokens=10),
                          _req(PROMPTS[1], temperature=1.0, seed=3, max_new_tokens=10)])
    first_stop = ids.index(stop_token)
    assert results[0].finish_reason == "stop" and results[0].completion_tokens == first_stop + 1
    assert results[0].completion_tokens < 10 and results[1].completion_tokens <= 10


def test_it_applies_repetition_penalty_and_no_repeat_ngram(backend):
    # Greedy decoding of the random tiny model repeats itself ("\n\n\n…"); both rules must break that.
    [free] = backend.generate([_req(PROMPTS[0], temperature=0, max_new_tokens=24)])
    [blocked] = backend.generate([_req(PROMPTS[0], temperature=0, max_new_tokens=24, no_repeat_ngram_size=2)])
    [penalised] = backend.generate([_req(PROMPTS[0], temperature=0, max_new_tokens=24, repetition_penalty=5.0)])
    def bigrams(ids):
        return list(itertools.pairwise(ids))

    assert len(bigrams(free.token_ids)) > len(set(bigrams(free.token_ids)))  # the free answer repeats a bigram
    assert len(bigrams(blocked.token_ids)) == len(set(bigrams(blocked.token_ids)))
    assert blocked.text != free.text and penalised.text != free.text


def test_it_serves_several_adapters_on_one_base_without_reloading(backend, tiny_model_root, tiny_adapter_root,  # noqa: F811
                                                                 tmp_path):
    from tests.evaluation.adapters import make_lora_adapter

    second = make_lora_adapter(tiny_model_root, tmp_path / "lora-2", seed=2)
    base_model = backend.model
    before = backend.generate([_req(PROMPTS[0], temperature=0)])[0].text
    mixed = backend.generate([_req(PROMPTS[0], temperature=0, adapter=str(tiny_adapter_root)),
                              _req(PROMPTS[0], temperature=0),
                              _req(PROMPTS[0], temperature=0, adapter=str(second))])
    assert mixed[1].text == before  # the base answers as before, adapters loaded or not
    assert mixed[0].text != before and mixed[2].text != before and mixed[0].text != mixed[2].text
    assert backend.model is base_model and len(backend.adapters) == 2
    again = backend.generate([_req(PROMPTS[0], temperature=0, adapter=str(tiny_adapter_root))])
    assert again[0].text == mixed[0].text


def test_it_ignores_the_sampling_defaults_in_a_models_generation_config(tiny_model_root, tmp_path):  # noqa: F811
    dirty = tmp_path / "dirty"
    shutil.copytree(tiny_model_root, dirty)
    config = json.loads((dirty / "generation_config.json").read_text())
    config.update(repetition_penalty=1.3, no_repeat_ngram_size=2, do_sample=True, temperature=0.2, top_k=3)
    (dirty / "generation_config.json").write_text(json.dumps(config))
    from workers.generation.transformers_backend import TransformersBackend

    clean = TransformersBackend(ModelSpec(base_model=str(tiny_model_root)))
    own = TransformersBackend(ModelSpec(base_model=str(dirty)))
    for params in ({"temperature": 0}, {"temperature": 0, "repetition_penalty": 1.3},
                   {"temperature": 1.0, "seed": 5}):
        expected = [r.text for r in clean.generate([_req(p, max_new_tokens=24, **params) for p in PROMPTS])]
        assert [r.text for r in own.generate([_req(p, max_new_tokens=24, **params) for p in PROMPTS])] == expected
    # ... and the penalty the request asks for is applied once: it changes the greedy answer, but only once.
    greedy = [r.text for r in clean.generate([_req(p, max_new_tokens=24, temperature=0) for p in PROMPTS])]
    assert greedy != [r.text for r in clean.generate([_req(p, max_new_tokens=24, temperature=0,
                                                           repetition_penalty=1.3) for p in PROMPTS])]


def test_it_leaves_the_global_random_generator_alone(tiny_model_root):  # noqa: F811
    import torch

    backend = load_backend(ModelSpec(base_model=str(tiny_model_root)))
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    backend.generate([_req(PROMPTS[0], temperature=1.0), _req(PROMPTS[1], temperature=1.0, seed=9)])
    assert torch.equal(torch.rand(3), expected)
