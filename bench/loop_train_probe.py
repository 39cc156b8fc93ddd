"""Does the LoRA runner teach SmolLM2-135M-Instruct the needs-context task on question templates it never saw?

    python bench/loop_train_probe.py SAMPLES_DIR [--rows 400] [--epochs 3] [--lr 5e-4] [--r 16] [--alpha 32]
                                     [--max-seq 256] [--holdout 6] [--out result.json]

Reads SAMPLES_DIR/needs_context.jsonl (from ../shared/data/make_samples.py), holds out whole question templates
(`template`), trains with workers.training.lora.train on the rest and scores base and adapter on the held-out
items by each label's log-likelihood (workers.generation.scoring). Prints JSON: accuracy and macro-F1 of both,
the majority baseline, steps, seconds per step, eval loss before/after. An experiment, not a test: outside the app.
"""
import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LABELS = ["需要", "不需要", "不是问题"]
SYSTEM = "You label questions from a developer group chat."


def prompt(row: dict) -> list[dict]:
    context = "\n".join(f"{m['sender']}: {m['text']}" for m in row["context"]) or "(none)"
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Chat context:\n{context}\n\nMessage: {row['text']}\n\n"
                                        "Does the message need the chat context to be understood? Answer with one "
                                        "label: 需要 (needs the context), 不需要 (stands alone) or 不是问题 (not a "
                                        "question)."}]


def macro_f1(gold: list[str], pred: list[str]) -> float:
    f1s = []
    for lab in LABELS:
        tp = sum(g == p == lab for g, p in zip(gold, pred))
        fp = sum(p == lab and g != lab for g, p in zip(gold, pred))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def split(rows: list[dict], holdout: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Whole templates held out: a third from each family (needs / standalone / chatter), at least one each."""
    rng = random.Random(seed)
    families: dict[str, list[str]] = {}
    for t in sorted({r["template"] for r in rows}):
        families.setdefault(t.rsplit("-", 1)[0], []).append(t)
    held = set()
    for names in families.values():
        held.update(rng.sample(names, max(1, holdout // len(families))))
    return [r for r in rows if r["template"] not in held], [r for r in rows if r["template"] in held]


def evaluate(model, tokenizer, rows: list[dict]) -> dict:
    from workers.generation.scoring import choice_scores

    pred = [c.label for c in choice_scores(model, tokenizer, [prompt(r) for r in rows], LABELS)]
    gold = [r["label"] for r in rows]
    return {"accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4),
            "macro_f1": round(macro_f1(gold, pred), 4), "predicted": dict(Counter(pred))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("--rows", type=int, default=0, help="training rows (0: all not held out)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-seq", type=int, default=256)
    ap.add_argument("--holdout", type=int, default=6)
    ap.add_argument("--eval-rows", type=int, default=0, help="held-out items to score (0: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    a = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from labelstudio_app.training.hyperparams import LoraHyperparams
    from workers.models.smollm2 import default_model_dir, smollm2_prepare
    from workers.training.lora import TrainConfig, train

    torch.set_num_threads(a.threads)
    t0 = time.monotonic()
    base = smollm2_prepare(default_model_dir())
    rows = [json.loads(line) for line in open(Path(a.samples) / "needs_context.jsonl", encoding="utf-8")]
    train_rows, held = split(rows, a.holdout)
    random.Random(1).shuffle(train_rows)
    if a.rows:
        train_rows = train_rows[:a.rows]
    if a.eval_rows:
        held = random.Random(2).sample(held, min(a.eval_rows, len(held)))
    gold = Counter(r["label"] for r in held)
    majority = gold.most_common(1)[0][1] / len(held)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    t_eval = time.monotonic()
    before = evaluate(model, tokenizer, held)
    base_eval_s = time.monotonic() - t_eval
    del model

    convs = [[*prompt(r), {"role": "assistant", "content": r["label"]}] for r in train_rows]
    eval_convs = [[*prompt(r), {"role": "assistant", "content": r["label"]}] for r in held]
    hp = LoraHyperparams(r=a.r, alpha=a.alpha, learning_rate=a.lr, epochs=a.epochs, batch_size=a.batch,
                         max_seq_length=a.max_seq, save_steps=10_000, dropout=0.05)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(TrainConfig(base_model=str(base), output_dir=f"{tmp}/ckpt", adapter_dir=f"{tmp}/adapter",
                                   hyperparams=hp), convs, eval_conversations=eval_convs,
                       log=lambda t: print(t, file=sys.stderr, flush=True),
                       on_step=lambda i: print(f"step {i.step}/{i.total_steps} loss {i.loss:.4f}", file=sys.stderr,
                                               flush=True),
                       on_eval=lambda step, loss: print(f"eval loss at {step}: {loss:.4f}", file=sys.stderr,
                                                        flush=True))
        from peft import PeftModel

        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                                          f"{tmp}/adapter")
        after = evaluate(model, tokenizer, held)
    out = {
        "settings": {"train_rows": len(train_rows), "held_out_items": len(held), "r": a.r, "alpha": a.alpha,
                     "lr": a.lr, "epochs": a.epochs, "batch": a.batch, "max_seq_length": a.max_seq},
        "held_out_labels": dict(gold), "majority_baseline": round(majority, 4),
        "base": before, "adapter": after, "steps": result.steps, "train_seconds": result.train_seconds,
        "seconds_per_step": round(result.train_seconds / max(1, result.steps), 2),
        "eval_losses": result.eval_losses, "first_loss": result.losses[0][1] if result.losses else None,
        "last_loss": result.losses[-1][1] if result.losses else None, "truncated": result.truncated,
        "base_scoring_seconds": round(base_eval_s, 1), "total_seconds": round(time.monotonic() - t0, 1),
    }
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if a.out:
        Path(a.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
