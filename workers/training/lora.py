"""The LoRA runner: transformers + peft, loss on assistant tokens only. Pure: no ORM.

    train(TrainConfig(...), conversations, on_step=..., log=...) -> TrainResult

- Examples go through the tokenizer's own chat template; only assistant tokens carry a loss. The assistant
  spans are found without `{% generation %}` tags (most stock templates have none): the conversation is rendered
  up to each assistant turn with the generation prompt and again with that turn; the characters between are the
  turn (its end-of-turn token included, trailing whitespace not), and the whole text is tokenized once with
  offsets so tokens are masked by character span. A template for which that is not a prefix of the next
  rendering cannot be masked: `chat_template_check` refuses it with the reason.
- `eval_conversations`: the answer-token loss on them before training and every `eval_steps` (default
  `save_steps`) and at the end, through `on_eval(step, loss)` and `TrainResult.eval_losses`.
- Plain `transformers.Trainer` rather than TRL's SFTTrainer: we need only tokenisation with the assistant mask,
  a collator and a callback, and SFTConfig's defaults (bf16, gradient checkpointing) are 4–18x slower on a CPU.
- `precision`: auto is bfloat16 on a GPU that has it and float32 on a CPU; `bf16` on a CPU with AVX512-BF16 / AMX
  autocasts (float32 weights): ~1.7x faster per step here, but the loop bench scored lower on held-out items.
- Checkpoints every `save_steps` under `output_dir`; calling `train` again with the same output dir resumes from
  the last one (optimizer, scheduler, RNG and step included). That is how a redelivered job continues.
- Several GPUs: run `python -m workers.training.lora CONFIG.json` under `accelerate launch` / `torchrun`
  (see docs/training.md); the same code runs in every process and only rank 0 writes the adapter.
"""
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labelstudio_app.training.hyperparams import LoraHyperparams
from workers.files import share_tree

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


class TrainingError(ValueError):
    """A problem with the inputs that a user can fix (bad module name, no usable example, ...)."""


@dataclass
class TrainConfig:
    base_model: str = field(metadata={"help": "Folder (or hub id) of the base model to adapt."})
    output_dir: str = field(metadata={"help": "Checkpoints go here; a second run with this dir resumes."})
    adapter_dir: str = field(metadata={"help": "The final adapter (PEFT format) and flywheel.json go here."})
    hyperparams: LoraHyperparams = field(default_factory=LoraHyperparams,
                                         metadata={"help": "r, alpha, lr, epochs, ... (labelstudio_app.training."
                                                           "hyperparams: defaults and validation)."})
    continue_from_adapter: str | None = field(
        default=None, metadata={"help": "An adapter on base_model to merge first; a new adapter is trained on top."})
    merged_base_dir: str | None = field(
        default=None, metadata={"help": "Where the merged base is saved when continuing from an adapter."})
    save_merged: bool = field(default=False, metadata={"help": "Also save base + new adapter merged (full weights)."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Passed to from_pretrained."})
    metadata: dict = field(default_factory=dict, metadata={"help": "Written into flywheel.json (snapshot hash, ...)."})


@dataclass
class StepInfo:
    step: int
    total_steps: int
    loss: float | None
    eta_seconds: float | None
    learning_rate: float | None = None


@dataclass
class TrainResult:
    adapter_dir: str
    merged_dir: str | None
    base_model_dir: str  # what the adapter applies to (the merged base when continuing from an adapter)
    steps: int
    resumed_from_step: int
    losses: list  # [[step, loss], ...] of this process's run
    examples: int
    skipped: int
    train_tokens: int
    train_seconds: float
    target_modules: list
    truncated: int = 0  # examples with answer tokens cut by max_seq_length
    truncated_eot_lost: int = 0  # ... of which the cut fell inside an answer, so its end-of-turn token was lost
    eval_losses: list = field(default_factory=list)  # [[step, answer-token loss on eval_conversations], ...]
    precision: str = "fp32"  # what the run computed in: "bf16" (mixed, float32 weights) or "fp32"

    @property
    def tokens_per_second(self) -> float:
        return self.train_tokens / self.train_seconds if self.train_seconds else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "tokens_per_second": round(self.tokens_per_second, 1)}


# ---- rows -> conversations ------------------------------------------------------------------------------

_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "system": "system", "model": "assistant"}


def row_messages(row: dict) -> list[dict]:
    """A snapshot row in any of our formats (OpenAI chat, ShareGPT, alpaca) -> chat messages."""
    if isinstance(row.get("messages"), list):
        return [{"role": m["role"], "content": str(m["content"])} for m in row["messages"]]
    if isinstance(row.get("conversations"), list):
        msgs = [{"role": _SHAREGPT_ROLES.get(m.get("from", ""), m.get("from", "")), "content": str(m.get("value", ""))}
                for m in row["conversations"]]
        if row.get("system"):
            msgs.insert(0, {"role": "system", "content": str(row["system"])})
        return msgs
    if "instruction" in row and "output" in row:
        prompt = str(row["instruction"]) + (f"\n\n{row['input']}" if row.get("input") else "")
        msgs = [{"role": "user", "content": prompt}, {"role": "assistant", "content": str(row["output"])}]
        if row.get("system"):
            msgs.insert(0, {"role": "system", "content": str(row["system"])})
        return msgs
    raise TrainingError(f"row is not OpenAI chat, ShareGPT or alpaca: keys {sorted(row)}")


def read_jsonl_conversations(path: str | Path) -> list[list[dict]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(row_messages(json.loads(line)))
                except (ValueError, KeyError) as exc:
                    raise TrainingError(f"line {number}: {exc}") from None
    return out


# ---- tokenisation ---------------------------------------------------------------------------------------

PROBE_CONVERSATION = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "First question?"},
    {"role": "assistant", "content": "First answer."},
    {"role": "user", "content": "Second question?"},
    {"role": "assistant", "content": "Second answer."},
]


def _render(tokenizer, messages: list[dict], *, add_generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def assistant_char_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the [start, end) character span of each assistant turn in it."""
    if not getattr(tokenizer, "chat_template", None):
        raise TrainingError("the tokenizer has no chat template")
    try:
        full = _render(tokenizer, messages, add_generation_prompt=False)
    except Exception as exc:  # jinja raises its own types (raise_exception, undefined, ...)
        raise TrainingError(f"the chat template cannot render this conversation: {exc}") from None
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], add_generation_prompt=True)
        upto = _render(tokenizer, messages[:i + 1], add_generation_prompt=False)
        if not upto.startswith(before):
            raise TrainingError("the chat template renders the prompt differently once the answer follows it (the "
                                "generation prompt is not a prefix of the conversation with the answer), so the "
                                "answer tokens cannot be found")
        if not full.startswith(upto):
            raise TrainingError("the chat template renders earlier turns differently once later turns follow "
                                "(a conversation is not a prefix of its continuation), so the answer tokens "
                                "cannot be found")
        start, end = len(before), len(upto)
        # The end-of-turn token is learned (it is how the model stops); the whitespace after it is not.
        tail_from = start + len(message["content"]) if upto[start:].startswith(message["content"]) else start
        end = tail_from + len(upto[tail_from:end].rstrip())
        if end > start:
            spans.append((start, end))
    return full, spans


def tokenize_conversation(tokenizer, messages: list[dict], max_length: int) -> dict | None:
    """input_ids + labels (-100 outside assistant turns), cut to max_length; None without an assistant turn.

    Also `truncated` (answer tokens were cut) and `eot_lost` (the cut fell inside an answer)."""
    text, spans = assistant_char_spans(tokenizer, messages)
    if not getattr(tokenizer, "is_fast", False):
        raise TrainingError("the tokenizer is not a fast tokenizer, so it gives no character offsets to mask by")
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    turn = [-1] * len(ids)  # index of the assistant span each token belongs to, -1 for none
    for k, (a, b) in enumerate(enc["offset_mapping"]):
        for n, (start, end) in enumerate(spans):
            if a < end and b > start:
                turn[k] = n
                break
    if not any(t >= 0 for t in turn):
        return None
    truncated = any(t >= 0 for t in turn[max_length:])
    eot_lost = truncated and len(ids) > max_length and turn[max_length - 1] >= 0 and \
        turn[max_length - 1] == turn[max_length]
    ids, turn = ids[:max_length], turn[:max_length]
    # Kept even when the cut leaves no answer token, so the caller counts it as truncated (and skips it).
    return {"input_ids": ids, "labels": [t if n >= 0 else -100 for t, n in zip(ids, turn, strict=True)],
            "truncated": truncated, "eot_lost": eot_lost}


def _learns(example: dict) -> bool:
    return any(label != -100 for label in example["labels"])


def chat_template_check(tokenizer) -> None:
    """Raises TrainingError saying why when the tokenizer's chat template cannot be masked for training."""
    example = tokenize_conversation(tokenizer, PROBE_CONVERSATION, 1_000_000)
    if example is None:
        raise TrainingError("the chat template renders no assistant turn")
    learned = tokenizer.decode([t for t in example["labels"] if t != -100])
    for message in PROBE_CONVERSATION:
        if (message["role"] == "assistant") != (message["content"] in learned):
            raise TrainingError(f"the answer tokens found in the chat template do not match the assistant turns "
                                f"(found {learned!r})")


def chat_template_check_dir(path: str | Path, *, trust_remote_code: bool = False) -> None:
    """chat_template_check on the tokenizer saved in a model folder (what model registration calls)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise TrainingError(f"no tokenizer could be loaded from {path}: {exc}") from None
    chat_template_check(tokenizer)


def count_tokens(tokenizer, conversations: list[list[dict]]) -> int:
    """Tokens of every conversation rendered through the chat template (what training reads)."""
    return sum(len(tokenizer.apply_chat_template(c, tokenize=True, return_dict=False)) for c in conversations)


def pack(examples: list[dict], max_length: int) -> list[dict]:
    """Greedy packing: consecutive examples share one sequence up to max_length (labels keep their masks)."""
    packed, cur = [], {"input_ids": [], "labels": []}
    for ex in examples:
        if cur["input_ids"] and len(cur["input_ids"]) + len(ex["input_ids"]) > max_length:
            packed.append(cur)
            cur = {"input_ids": [], "labels": []}
        cur["input_ids"] = cur["input_ids"] + ex["input_ids"]
        cur["labels"] = cur["labels"] + ex["labels"]
    if cur["input_ids"]:
        packed.append(cur)
    return packed


class Collator:
    """Right-pads a batch; counts the real tokens it hands out (for throughput)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id
        self.tokens = 0

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        attn = torch.zeros((len(batch), width), dtype=torch.long)
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n] = torch.tensor(b["input_ids"])
            labels[i, :n] = torch.tensor(b["labels"])
            attn[i, :n] = 1
        self.tokens += int(attn.sum())
        return {"input_ids": ids, "labels": labels, "attention_mask": attn}


# ---- the model ------------------------------------------------------------------------------------------

def linear_module_names(model) -> list[str]:
    """Leaf names of every Linear layer except the output head: the default LoRA targets."""
    import torch

    names = set()
    for full, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and not full.endswith("lm_head"):
            names.add(full.rsplit(".", 1)[-1])
    return sorted(names)


def resolve_target_modules(model, wanted: list[str]) -> list[str]:
    available = linear_module_names(model)
    if not wanted:
        return available
    bad = [m for m in wanted if m not in available]
    if bad:
        raise TrainingError(f"unknown target module(s) {', '.join(bad)}; this model's linear layers are: "
                            f"{', '.join(available)}")
    return list(wanted)


def last_checkpoint(output_dir: str | Path) -> tuple[Path | None, int]:
    """The newest complete checkpoint-N folder (one with trainer_state.json) and N."""
    best, step = None, 0
    root = Path(output_dir)
    if root.is_dir():
        for child in root.iterdir():
            m = CHECKPOINT_RE.match(child.name)
            if m and (child / "trainer_state.json").exists() and int(m.group(1)) > step:
                best, step = child, int(m.group(1))
    return best, step


def _load_base(config: TrainConfig, log: Callable[[str], None]):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # bf16 weights on a GPU; on a CPU the weights stay float32 and bf16 is autocast (TrainingArguments.bf16).
    dtype = torch.bfloat16 if torch.cuda.is_available() and use_bf16(config.hyperparams.precision) else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(config.base_model, trust_remote_code=config.trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(config.base_model, dtype=dtype,
                                                 trust_remote_code=config.trust_remote_code)
    base_dir = config.base_model
    if config.continue_from_adapter:
        from peft import PeftModel

        log(f"merging adapter {config.continue_from_adapter} into the base before training a new one")
        model = PeftModel.from_pretrained(model, config.continue_from_adapter).merge_and_unload()
        if config.merged_base_dir:
            if not (Path(config.merged_base_dir) / "config.json").exists():
                model.save_pretrained(config.merged_base_dir)
                tokenizer.save_pretrained(config.merged_base_dir)
            base_dir = config.merged_base_dir
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, base_dir


def eval_loss(model, examples: list[dict], pad_id: int, batch_size: int = 8) -> float:
    """Mean loss per answer token over examples (labels -100 elsewhere), in eval mode, without gradients."""
    import torch

    was_training = model.training
    model.eval()
    collate = Collator(pad_id)
    total, count = 0.0, 0
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            for start in range(0, len(examples), batch_size):
                batch = {k: v.to(device) for k, v in collate(examples[start:start + batch_size]).items()}
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                labels = batch["labels"][:, 1:]
                nll = torch.nn.functional.cross_entropy(logits[:, :-1].float().transpose(1, 2), labels,
                                                        ignore_index=-100, reduction="sum")
                total += float(nll)
                count += int((labels != -100).sum())
    finally:
        if was_training:
            model.train()
    return total / count if count else float("nan")


def _callback(on_step, losses: list):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """Streams step / loss / ETA; `on_step` may raise (a cancel) and that stops training between steps."""

        def __init__(self):
            self.t0 = None
            self.first_step = 0

        def on_train_begin(self, args, state, control, **kw):
            self.t0, self.first_step = time.monotonic(), state.global_step

        def on_log(self, args, state, control, logs=None, **kw):
            # logging_steps=1: one call per optimizer step, right after it; a raise here stops between steps.
            if not logs or "loss" not in logs:
                return
            loss = float(logs["loss"])
            losses.append([state.global_step, round(loss, 6)])
            done = state.global_step - self.first_step
            elapsed = time.monotonic() - self.t0
            eta = elapsed / done * (state.max_steps - state.global_step) if done else None
            if on_step and state.is_world_process_zero:
                on_step(StepInfo(state.global_step, state.max_steps, loss, eta, logs.get("learning_rate")))

    return Progress()


def _eval_callback(examples: list[dict], pad_id: int, every: int, record):
    from transformers import TrainerCallback

    class Eval(TrainerCallback):
        """The eval loss every `every` steps and after the last one."""

        def on_step_end(self, args, state, control, model=None, **kw):
            if state.global_step % every == 0 or state.global_step >= state.max_steps:
                record(state.global_step, eval_loss(model, examples, pad_id, args.per_device_train_batch_size),
                       state.is_world_process_zero)

    return Eval()


def bf16_native() -> bool:
    """Does this device compute bfloat16 matmuls natively (so mixed precision is faster, not emulated)?"""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)  # AVX512-BF16 / AMX
    return bool(supported and supported())


def use_bf16(precision: str) -> bool:
    """auto: bf16 on a GPU that has it. On a CPU only when asked: faster there, but measured worse on held-out
    items (bench/README.md, the loop)."""
    import torch

    if precision == "fp32":
        return False
    if precision == "bf16" and not bf16_native():
        raise TrainingError("precision bf16: this device has no native bfloat16 (choose auto or fp32)")
    return precision == "bf16" or (torch.cuda.is_available() and bf16_native())


def _training_args(config: TrainConfig):
    import torch
    from transformers import TrainingArguments

    hp = config.hyperparams
    on_gpu = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=config.output_dir, per_device_train_batch_size=hp.batch_size,
        gradient_accumulation_steps=hp.gradient_accumulation, learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler, warmup_steps=hp.warmup_ratio, num_train_epochs=hp.epochs,
        max_steps=hp.max_steps or -1, logging_steps=1, save_strategy="steps", save_steps=hp.save_steps,
        save_total_limit=2, seed=hp.seed, report_to=[], use_cpu=not on_gpu,
        bf16=use_bf16(hp.precision),
        dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True, log_level="warning",
    )


def train(config: TrainConfig, conversations: list[list[dict]], *, on_step: Callable[[StepInfo], None] | None = None,
          log: Callable[[str], None] = print, eval_conversations: list[list[dict]] | None = None,
          eval_steps: int | None = None, on_eval: Callable[[int, float], None] | None = None) -> TrainResult:
    """Trains (or resumes) a LoRA adapter on `conversations` and saves it; see the module docstring."""
    from peft import LoraConfig, get_peft_model
    from transformers import PrinterCallback, Trainer, set_seed

    hp = config.hyperparams
    set_seed(hp.seed)
    model, tokenizer, base_dir = _load_base(config, log)
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and hp.max_seq_length > limit:
        raise TrainingError(f"max_seq_length {hp.max_seq_length} is beyond the model's max_position_embeddings "
                            f"({limit})")
    chat_template_check(tokenizer)
    targets = resolve_target_modules(model, hp.target_modules)
    tokenized = [e for e in (tokenize_conversation(tokenizer, c, hp.max_seq_length) for c in conversations) if e]
    truncated = sum(e["truncated"] for e in tokenized)
    eot_lost = sum(e["eot_lost"] for e in tokenized)
    examples = [e for e in tokenized if _learns(e)]
    skipped = len(conversations) - len(examples)
    if not examples:
        raise TrainingError(f"no example has an assistant turn to learn from within max_seq_length "
                            f"{hp.max_seq_length}")
    if truncated:
        log(f"{truncated} example(s) had answer tokens cut by max_seq_length {hp.max_seq_length} "
            f"({eot_lost} lost their end-of-turn token)")
    examples = [{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples]
    if hp.packing:
        examples = pack(examples, hp.max_seq_length)
    evals = [{"input_ids": e["input_ids"], "labels": e["labels"]}
             for e in (tokenize_conversation(tokenizer, c, hp.max_seq_length) for c in eval_conversations or [])
             if e and _learns(e)]
    peft_config = LoraConfig(r=hp.r, lora_alpha=hp.alpha, lora_dropout=hp.dropout, target_modules=targets,
                             task_type="CAUSAL_LM")
    model = get_peft_model(model, peft_config)
    resume_dir, resume_step = last_checkpoint(config.output_dir)
    log(f"{len(examples)} training sequences ({skipped} skipped), LoRA on {', '.join(targets)}; "
        + (f"resuming from checkpoint at step {resume_step}" if resume_dir else "starting at step 0"))
    losses: list = []
    eval_losses: list = []

    def record_eval(step: int, loss: float, report: bool) -> None:
        eval_losses.append([step, round(loss, 6)])
        if on_eval and report:
            on_eval(step, loss)

    collator = Collator(tokenizer.pad_token_id)
    callbacks = [_callback(on_step, losses)]
    if evals:
        callbacks.append(_eval_callback(evals, tokenizer.pad_token_id, eval_steps or hp.save_steps, record_eval))
    trainer = Trainer(model=model, args=_training_args(config), train_dataset=examples,
                      data_collator=collator, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # logs go through on_step / log, not stdout
    if evals and not resume_dir:
        # Step 0: the base model's loss (the LoRA update starts at zero), the point every later one is read against.
        record_eval(0, eval_loss(model, evals, tokenizer.pad_token_id, hp.batch_size), trainer.is_world_process_zero())
    t0 = time.monotonic()
    output = trainer.train(resume_from_checkpoint=str(resume_dir) if resume_dir else None)
    seconds = time.monotonic() - t0
    merged_dir = _save(config, trainer, tokenizer, targets) if trainer.is_world_process_zero() else None
    return TrainResult(adapter_dir=config.adapter_dir, merged_dir=merged_dir, base_model_dir=base_dir,
                       steps=output.global_step, resumed_from_step=resume_step, losses=losses,
                       examples=len(examples), skipped=skipped, train_tokens=collator.tokens,
                       train_seconds=round(seconds, 3), target_modules=targets, truncated=truncated,
                       truncated_eot_lost=eot_lost, eval_losses=eval_losses,
                       precision="bf16" if trainer.args.bf16 else "fp32")


def _save(config: TrainConfig, trainer, tokenizer, targets: list[str]) -> str | None:
    """Adapter (adapter_config.json + adapter_model.safetensors) and flywheel.json; written to a temp dir and
    renamed, so a crash never leaves half an adapter where a model version could point."""
    final = Path(config.adapter_dir)
    tmp = final.with_name(final.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model = trainer.model
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    meta = {**config.metadata, "hyperparams": asdict(config.hyperparams), "target_modules": targets,
            "base_model": config.base_model, "continued_from_adapter": config.continue_from_adapter}
    (tmp / "flywheel.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    merged_dir = None
    if config.save_merged:
        merged = model.merge_and_unload()
        merged.save_pretrained(tmp / "merged", safe_serialization=True)
        tokenizer.save_pretrained(tmp / "merged")
        merged_dir = str(final / "merged")
    share_tree(tmp)  # a serving process of another user reads it (docs/training.md)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return merged_dir


def main() -> None:
    """`python -m workers.training.lora CONFIG.json` (also under `accelerate launch` / `torchrun`).

    CONFIG.json: {"config": {TrainConfig fields, hyperparams as a dict}, "data": "snapshot.jsonl",
    "result": "result.json"}. Progress lines go to stdout as JSON."""
    import sys

    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    cfg = dict(spec["config"])
    cfg["hyperparams"] = LoraHyperparams(**cfg.get("hyperparams", {}))
    config = TrainConfig(**cfg)

    def report(info: StepInfo) -> None:
        print(json.dumps({"step": info.step, "total": info.total_steps, "loss": info.loss,
                          "eta": info.eta_seconds}), flush=True)

    result = train(config, read_jsonl_conversations(spec["data"]), on_step=report,
                   log=lambda t: print(json.dumps({"log": t}), flush=True))
    if int(os.environ.get("RANK", "0")) == 0 and spec.get("result"):
        Path(spec["result"]).write_text(json.dumps(result.to_dict()), encoding="utf-8")


if __name__ == "__main__":
    main()
