"""Choice scoring: which of a few label strings a model finds most likely as its answer to each chat prompt.

    choice_scores(model, tokenizer, prompts, labels, normalize="sum") -> [ChoiceScore(label, scores), ...]

Each label is scored as the whole assistant turn: its tokens and the template's end-of-turn token after them,
so "Yes" is not credited for being the start of "Yes, but ...". The text and the span come from the same
renderer as training's loss mask (`assistant_char_spans`), so a label is scored on exactly the tokens training
teaches. `normalize="sum"` (the default) compares total log-likelihoods, which is right for short labels of a
closed set; `"mean"` divides by the label's token count, for labels of very different lengths. Ties go to the
label listed first, so the choice is deterministic. Pure: no ORM; the caller picks the adapter (a PeftModel with
its adapter set, or the base).
"""
from dataclasses import dataclass

from workers.training.lora import assistant_char_spans


@dataclass(frozen=True)
class ChoiceScore:
    label: str
    scores: dict  # label -> log-likelihood (summed or per token, as asked)


def _label_example(tokenizer, messages: list[dict], label: str) -> tuple[list[int], list[int]]:
    """ids of prompt + answer and the positions of the answer's tokens (end-of-turn included)."""
    text, spans = assistant_char_spans(tokenizer, [*messages, {"role": "assistant", "content": label}])
    start, end = spans[-1]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    positions = [k for k, (a, b) in enumerate(enc["offset_mapping"]) if a < end and b > start]
    return list(enc["input_ids"]), positions


def choice_scores(model, tokenizer, prompts: list[list[dict]], labels: list[str], *, normalize: str = "sum",
                  batch_size: int = 16) -> list[ChoiceScore]:
    import torch

    if normalize not in ("sum", "mean"):
        raise ValueError("normalize is 'sum' or 'mean'")
    if not labels:
        raise ValueError("at least one label is needed")
    pairs = [(p, lab, *_label_example(tokenizer, messages, lab)) for p, messages in enumerate(prompts) for lab in labels]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    totals: dict[tuple[int, str], float] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            # Longest first, similar lengths together: less padding per batch.
            order = sorted(pairs, key=lambda x: -len(x[2]))
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                width = max(len(ids) for _, _, ids, _ in chunk)
                # Left-padded, so every answer sits at the end and only the last `keep` positions need logits:
                # the vocabulary projection and softmax over every prompt position would cost more than the answer.
                keep = max(len(row) - positions[0] + 1 for _, _, row, positions in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                attn = torch.zeros((len(chunk), width), dtype=torch.long)
                for i, (_, _, row, _) in enumerate(chunk):
                    ids[i, width - len(row):] = torch.tensor(row)
                    attn[i, width - len(row):] = 1
                position_ids = (attn.cumsum(-1) - 1).clamp(min=0)
                inputs = {"input_ids": ids.to(device), "attention_mask": attn.to(device),
                          "position_ids": position_ids.to(device)}
                try:
                    logits = model(**inputs, logits_to_keep=keep).logits
                except TypeError:  # a remote-code model without logits_to_keep
                    logits = model(**inputs).logits
                logits = logits[:, -keep:]
                for i, (p, lab, row, positions) in enumerate(chunk):
                    # the token at position k is predicted by the logits at k - 1, here at keep - len(row) + k - 1
                    at = torch.tensor([keep - len(row) + k - 1 for k in positions], device=logits.device)
                    logprobs = torch.log_softmax(logits[i, at].float(), dim=-1)
                    score = sum(float(logprobs[j, row[k]]) for j, k in enumerate(positions))
                    totals[(p, lab)] = score / len(positions) if normalize == "mean" else score
    finally:
        if was_training:
            model.train()
    out = []
    for p in range(len(prompts)):
        scores = {lab: totals[(p, lab)] for lab in labels}
        best = max(labels, key=lambda lab: (scores[lab], -labels.index(lab)))
        out.append(ChoiceScore(best, scores))
    return out
