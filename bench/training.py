"""Training throughput: our worker runner (workers/training/lora.py) vs a plain peft + Trainer script.

Same tiny model, same data, same hyper-parameters, same number of steps; tokens/s counts the real (non-pad)
tokens the model trained on, over the `trainer.train()` wall time. The ratio ours/plain is our orchestration
overhead (assistant-mask tokenisation is shared work; the difference is our callback, progress reporting and
checkpointing). Prints JSON.

    .venv/bin/python bench/training.py [--examples 400] [--steps 60] [--repeats 2] [--hidden 128]

On a GPU (when one is there) both runs use it; pass a bigger --hidden to make the GPU work.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelstudio_app.settings")
os.environ.setdefault("FLYWHEEL_DEV", "1")


def plain_run(model_dir: str, conversations, hp, out_dir: str) -> dict:
    """What a team would write by hand: tokenise with the assistant mask, peft, Trainer. No callbacks."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        PrinterCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(hp.seed)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rows = []
    for conv in conversations:
        enc = tok.apply_chat_template(conv, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
        ids, mask = enc["input_ids"][:hp.max_seq_length], enc["assistant_masks"][:hp.max_seq_length]
        rows.append({"input_ids": ids, "labels": [t if m else -100 for t, m in zip(ids, mask)]})
    counted = {"tokens": 0}

    def collate(batch):
        w = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), w), tok.pad_token_id)
        labels = torch.full((len(batch), w), -100)
        attn = torch.zeros((len(batch), w), dtype=torch.long)
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n], labels[i, :n], attn[i, :n] = torch.tensor(b["input_ids"]), torch.tensor(b["labels"]), 1
        counted["tokens"] += int(attn.sum())
        return {"input_ids": ids, "labels": labels, "attention_mask": attn}

    targets = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                      if isinstance(m, torch.nn.Linear) and not n.endswith("lm_head")})
    model = get_peft_model(model, LoraConfig(r=hp.r, lora_alpha=hp.alpha, lora_dropout=hp.dropout,
                                             target_modules=targets, task_type="CAUSAL_LM"))
    args = TrainingArguments(output_dir=out_dir, per_device_train_batch_size=hp.batch_size,
                             learning_rate=hp.learning_rate, max_steps=hp.max_steps, logging_steps=10,
                             save_strategy="no", report_to=[], use_cpu=not torch.cuda.is_available(),
                             disable_tqdm=True, remove_unused_columns=False, seed=hp.seed, log_level="error")
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collate)
    trainer.remove_callback(PrinterCallback)  # keep stdout for the JSON report
    t0 = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - t0
    return {"tokens": counted["tokens"], "seconds": seconds, "tokens_per_second": counted["tokens"] / seconds}


def ours_run(model_dir: str, conversations, hp, out_dir: str) -> dict:
    from workers.training.lora import TrainConfig, train

    steps = []
    config = TrainConfig(base_model=model_dir, output_dir=f"{out_dir}/ckpt", adapter_dir=f"{out_dir}/adapter",
                         hyperparams=hp, metadata={"bench": True})
    # The worker's reporter does one progress UPDATE per step; here the callback records the step instead, so
    # this measures the runner itself (callbacks, checkpoints every save_steps, adapter save excluded from time).
    result = train(config, conversations, on_step=steps.append, log=lambda _t: None)
    return {"tokens": result.train_tokens, "seconds": result.train_seconds,
            "tokens_per_second": result.tokens_per_second, "steps": result.steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=400)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--save-steps", type=int, default=50, help="our runner checkpoints every N steps (as the job does)")
    a = ap.parse_args()
    import django

    django.setup()
    import torch

    from labelstudio_app.training.hyperparams import LoraHyperparams
    from workers.tiny_model import build_tiny_model, corpus

    tmp = tempfile.mkdtemp(prefix="bench-training-")
    model_dir = str(build_tiny_model(f"{tmp}/model", hidden_size=a.hidden))
    convs = corpus(a.examples, seed=1)
    hp = LoraHyperparams(r=16, alpha=16, learning_rate=2e-3, batch_size=8, max_seq_length=256, max_steps=a.steps,
                         save_steps=a.save_steps, warmup_ratio=0, seed=0)
    results = {"ours": [], "plain": []}
    for i in range(a.repeats):
        for name, fn in (("plain", plain_run), ("ours", ours_run)):
            results[name].append(fn(model_dir, convs, hp, f"{tmp}/{name}-{i}"))
    best = {k: max(v, key=lambda r: r["tokens_per_second"]) for k, v in results.items()}
    print(json.dumps({
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(), "examples": a.examples, "steps": a.steps, "hidden": a.hidden,
        "ours_tokens_per_s": round(best["ours"]["tokens_per_second"], 1),
        "plain_tokens_per_s": round(best["plain"]["tokens_per_second"], 1),
        "ratio_ours_over_plain": round(best["ours"]["tokens_per_second"] / best["plain"]["tokens_per_second"], 3),
        "tokens_per_run": best["ours"]["tokens"], "runs": results,
    }, indent=2))


if __name__ == "__main__":
    main()
