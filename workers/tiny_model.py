"""Builds the offline tiny model used by the demo and the tests: never a download.

A Qwen2-style causal LM (hidden 128, 4 heads -> head size 32, which vLLM needs), random weights, a byte-level BPE
tokenizer trained on the spot on Chinese + English text with Qwen2's own pre-tokenization rules (so the ids survive
save -> load as Qwen2Tokenizer), and a ChatML chat template whose assistant turns are wrapped in
{% generation %} so `return_assistant_tokens_mask=True` yields the training loss mask.

    python -m workers.tiny_model OUT_DIR [--pretrain-steps 300]
"""
import argparse
import itertools
import json
import random
from pathlib import Path

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_QUESTIONS = [
    "{p} 支持在 {t} 上部署吗？", "Does {p} run on {t} with fp16?", "{p} 的推理接口怎么设置 batch size？",
    "How do I export a model from {p} to ONNX?", "{p} 在 {t} 上跑一张图要 300ms，正常吗？", "LoRA 的 rank 应该怎么选？",
    "int8 量化和 fp16 相比精度一般掉多少？", "怎么把它部署到 {t}？", "Why is {p} slower on {t} than the README says?",
    "这个问题需要结合上下文吗？", "Is this a question that needs the chat context?",
]
_ANSWERS = [
    "可以，参考官方文档的部署章节，先转 ONNX 再用对应后端。", "Yes. Build with the platform toolchain and enable fp16.",
    "一般是 CUDA 版本不匹配，检查 nvcc --version 和驱动版本。", "先确认输入分辨率，再开 int8 量化，通常能快一倍。",
    "rank 8~64 都常见，数据少就小一点，先用 16 试。", "需要", "不需要", "Yes, it needs the context.", "No.",
]
_PROJECTS = ["mmpose", "mmdeploy", "ncnn", "lmdeploy", "xtuner", "vllm"]
_TARGETS = ["TX2", "Jetson Orin", "树莓派 4B", "安卓手机", "RK3588", "A100"]


def corpus(n: int = 600, seed: int = 0) -> list[list[dict]]:
    """Deterministic Chinese + English chat conversations."""
    rng = random.Random(seed)
    convs = []
    for _ in range(n):
        q = rng.choice(_QUESTIONS).format(p=rng.choice(_PROJECTS), t=rng.choice(_TARGETS))
        convs.append([{"role": "user", "content": q}, {"role": "assistant", "content": rng.choice(_ANSWERS)}])
    return convs


def _train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX, Qwen2Tokenizer

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    # Build it as the class transformers will reload it as, so ids cannot drift between save and load.
    hf = Qwen2Tokenizer(vocab=model["vocab"], merges=merges, unk_token="<|endoftext|>", eos_token="<|im_end|>",
                        pad_token="<|endoftext|>", additional_special_tokens=["<|im_start|>"])
    hf.chat_template = CHAT_TEMPLATE
    return hf


def build_tiny_model(out_dir: str | Path, *, pretrain_steps: int = 0, seed: int = 0, hidden_size: int = 128,
                     num_layers: int = 2, vocab_size: int = 800) -> Path:
    """Writes a loadable model folder (config, safetensors weights, tokenizer, chat template) and returns it."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    convs = corpus(seed=seed)
    texts = [m["content"] for conv in convs for m in conv] + _QUESTIONS + _ANSWERS
    tokenizer = _train_tokenizer(texts, vocab_size)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id, torch_dtype="float32",
    )
    model = AutoModelForCausalLM.from_config(config)
    if pretrain_steps:
        _pretrain(model, tokenizer, convs, pretrain_steps, seed)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def _pretrain(model, tokenizer, convs: list[list[dict]], steps: int, seed: int) -> None:
    """A few hundred steps of plain LM training so demo answers look like text, not random bytes."""
    import torch

    ids = [tokenizer.apply_chat_template(c, tokenize=True, return_dict=False) for c in convs]
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    batches = itertools.cycle(range(0, len(ids), 16))
    for _ in range(steps):
        start = next(batches)
        if start == 0:
            rng.shuffle(ids)
        batch = ids[start:start + 16]
        width = max(map(len, batch))
        x = torch.full((len(batch), width), tokenizer.pad_token_id)
        mask = torch.zeros_like(x)
        for i, seq in enumerate(batch):
            x[i, :len(seq)] = torch.tensor(seq)
            mask[i, :len(seq)] = 1
        labels = x.masked_fill(mask == 0, -100)
        loss = model(input_ids=x, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--pretrain-steps", type=int, default=300, help="LM steps so output reads like text (0: random)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(build_tiny_model(a.out, pretrain_steps=a.pretrain_steps, seed=a.seed))


if __name__ == "__main__":
    main()
