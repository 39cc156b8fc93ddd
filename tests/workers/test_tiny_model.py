"""The offline tiny model: loads back as saved, with the same token ids, and a usable chat template."""
from transformers import AutoModelForCausalLM, AutoTokenizer

from workers.tiny_model import _ANSWERS, _QUESTIONS, corpus


def test_it_keeps_token_ids_through_save_and_load(tiny_model_dir):
    from workers.tiny_model import _train_tokenizer

    texts = [m["content"] for conv in corpus() for m in conv] + _QUESTIONS + _ANSWERS
    built = _train_tokenizer(texts, 800)
    loaded = AutoTokenizer.from_pretrained(tiny_model_dir)
    samples = [*texts[:300], "怎么把它部署到 TX2？ 300ms 正常吗", "Hello,  world!!  123 RK3588", "emoji 🙂 and ümlauts"]
    assert type(loaded).__name__ == "Qwen2Tokenizer"
    mismatched = [s for s in samples if built.encode(s) != loaded.encode(s)]
    assert mismatched == []
    for s in samples[-3:]:
        assert loaded.decode(loaded.encode(s)) == s


def test_it_loads_with_a_chat_template_and_safetensors(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = tok.apply_chat_template([{"role": "user", "content": "你好"}], add_generation_prompt=True, tokenize=False)
    assert text == "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, use_safetensors=True)
    assert model.config.hidden_size // model.config.num_attention_heads >= 32  # vLLM's minimum head size
    assert any(p.name.endswith(".safetensors") for p in tiny_model_dir.iterdir())
