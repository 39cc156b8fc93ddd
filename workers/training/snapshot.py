"""The `snapshot` job (reads through selectors, writes through services): counts a snapshot's tokens with the base model's tokenizer (the web side never loads one)."""
from labelstudio_app.training import selectors, services
from workers.training.lora import read_jsonl_conversations

BATCH = 500


def snapshot_run(ctx) -> dict:
    from transformers import AutoTokenizer

    snapshot = selectors.snapshot_get_for_job(snapshot_id=ctx.params["snapshot_id"])
    path = services.snapshot_verify(snapshot=snapshot)
    base = ctx.params["base_model"]
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=bool(ctx.params.get("trust_remote_code")))
    conversations = read_jsonl_conversations(path)
    total = 0
    for start in range(0, len(conversations), BATCH):
        chunk = conversations[start:start + BATCH]
        total += sum(len(tokenizer.apply_chat_template(c, tokenize=True, return_dict=False)) for c in chunk)
        ctx.progress(done=start + len(chunk), total=len(conversations))
    services.snapshot_tokens_set(snapshot_id=snapshot.pk, token_count=total, tokenizer_model=base)
    return {"token_count": total, "rows": len(conversations)}
