"""The transformers backend: batched generation on CPU or GPU, LoRA adapters through peft.

- Prompts are rendered with the tokenizer's chat template and left-padded, so a batch decodes together.
- Sampling is per request: a last logits processor applies each row's repetition penalty, no-repeat
  n-gram rule, temperature, top-k and top-p, and draws the row's token with the row's own seeded
  `torch.Generator`; `generate` then runs greedy over that one-hot choice. So a request's answer depends
  on its seed, not on which other requests share its batch (apart from float noise of padding), and one
  batch can mix temperatures and seeds. temperature 0 is greedy.
- Adapters: the base loads once; the first adapter wraps it in a PeftModel, later ones are added with
  `load_adapter(path, adapter_name=...)`; requests are grouped by adapter and run with `set_adapter`, base
  requests inside `disable_adapter()`. Nothing is reloaded between groups or jobs.
- Token counts: prompt tokens exclude padding; completion tokens count up to and including the EOS token
  and exclude the padding `generate` adds after a row has finished.
- Weights load only from safetensors (`use_safetensors=True`); `trust_remote_code` comes from the model
  version (off unless an admin turned it on).
"""
import hashlib
import logging
import secrets
import time
from collections import defaultdict

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
)
from transformers.generation.logits_process import (
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from workers.generation.base import GenerationRequest, GenerationResult, ModelSpec

logger = logging.getLogger(__name__)
DEFAULT_MAX_BATCH = 16


class _RowSampler(LogitsProcessor):
    """Picks every row's next token with that row's own parameters and generator (see the module doc)."""

    def __init__(self, requests: list[GenerationRequest], pad_lengths: list[int], eos_ids: set[int], device):
        self.rows = []
        for req, pad in zip(requests, pad_lengths):
            p = req.params
            gen = torch.Generator(device="cpu")
            # An unseeded request draws its seed from the OS, never from torch's global generator, which it
            # must not consume or re-seed (other code in the worker relies on it).
            gen.manual_seed(p.seed if p.seed is not None else secrets.randbits(63))
            warpers = []
            if p.top_k:
                warpers.append(TopKLogitsWarper(top_k=p.top_k))
            if p.top_p < 1.0:
                warpers.append(TopPLogitsWarper(top_p=p.top_p))
            self.rows.append((p, gen, pad, warpers,
                              RepetitionPenaltyLogitsProcessor(p.repetition_penalty) if p.repetition_penalty != 1.0 else None,
                              NoRepeatNGramLogitsProcessor(p.no_repeat_ngram_size) if p.no_repeat_ngram_size else None))
        self.eos_ids = eos_ids
        self.device = device
        self.started = time.perf_counter()
        self.finished_at: list[float | None] = [None] * len(requests)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        chosen = []
        for i, (p, gen, pad, warpers, rep, ngram) in enumerate(self.rows):
            ids = input_ids[i:i + 1, pad:]
            row = scores[i:i + 1].float()
            if rep is not None:
                row = rep(ids, row)
            if ngram is not None:
                row = ngram(ids, row)
            if p.temperature == 0:
                token = int(row.argmax(-1))
            else:
                row = row / p.temperature
                for warp in warpers:
                    row = warp(ids, row)
                probs = torch.softmax(row, dim=-1).cpu()
                token = int(torch.multinomial(probs[0], 1, generator=gen))
            if token in self.eos_ids and self.finished_at[i] is None:
                self.finished_at[i] = time.perf_counter()
            chosen.append(token)
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(len(chosen), device=scores.device), torch.tensor(chosen, device=scores.device)] = 0.0
        return out


class TransformersBackend:
    def __init__(self, spec: ModelSpec):
        opts = spec.options or {}
        device = opts.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = opts.get("dtype") or ("bfloat16" if device.startswith("cuda") else "float32")
        dtype = "auto" if dtype_name == "auto" else getattr(torch, dtype_name)
        self.spec = spec
        self.device = device
        self.max_batch = int(opts.get("batch_size") or DEFAULT_MAX_BATCH)
        started = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(spec.base_model, trust_remote_code=spec.trust_remote_code)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if not self.tokenizer.chat_template:
            raise ValueError(f"{spec.base_model}: the tokenizer has no chat template")
        self.model = AutoModelForCausalLM.from_pretrained(
            spec.base_model, dtype=dtype, use_safetensors=True, trust_remote_code=spec.trust_remote_code,
        ).to(device)
        self.model.eval()
        self.peft = None  # the PeftModel wrapping self.model once an adapter is loaded
        self.adapters: dict[str, str] = {}  # path -> adapter name
        self.eos_ids = self._eos_ids()
        # Every request brings all its sampling parameters, applied once by _RowSampler; the model's own
        # generation_config.json (a repetition_penalty of 1.3, say) would otherwise fill every field left unset
        # and be applied by `generate` on top. Only the special token ids are kept from it.
        own = self.model.generation_config
        self.model.generation_config = GenerationConfig(
            bos_token_id=own.bos_token_id, eos_token_id=sorted(self.eos_ids), pad_token_id=self.tokenizer.pad_token_id)
        self.load_seconds = time.perf_counter() - started
        logger.info("loaded %s on %s in %.1fs", spec.base_model, device, self.load_seconds)

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(int(x) for x in source)
        return ids

    def _adapter_name(self, path: str) -> str:
        if path not in self.adapters:
            from peft import PeftModel

            name = "a" + hashlib.sha256(path.encode()).hexdigest()[:12]
            if self.peft is None:
                self.peft = PeftModel.from_pretrained(self.model, path, adapter_name=name, is_trainable=False)
                self.peft.eval()
            else:
                self.peft.load_adapter(path, adapter_name=name, is_trainable=False)
            self.adapters[path] = name
            logger.info("loaded adapter %s as %s", path, name)
        return self.adapters[path]

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, req in enumerate(requests):
            groups[(req.adapter or "", req.params.max_new_tokens)].append(i)
        for (adapter, max_new), indexes in groups.items():
            # Similar lengths together: less padding.
            indexes.sort(key=lambda i: len(str(requests[i].messages)))
            for start in range(0, len(indexes), self.max_batch):
                chunk = indexes[start:start + self.max_batch]
                for i, res in zip(chunk, self._generate_batch([requests[i] for i in chunk], adapter, max_new)):
                    results[i] = res
        return results  # type: ignore[return-value]

    def _generate_batch(self, reqs: list[GenerationRequest], adapter: str, max_new: int) -> list[GenerationResult]:
        texts = [self.tokenizer.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False)
                 for r in reqs]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        mask = enc["attention_mask"]
        prompt_lens = mask.sum(dim=1).tolist()
        width = enc["input_ids"].shape[1]
        pad_lengths = [width - n for n in prompt_lens]
        sampler = _RowSampler(reqs, pad_lengths, self.eos_ids, self.device)
        # Neutral values for everything _RowSampler does itself, so `generate` applies none of it a second time.
        config = GenerationConfig(max_new_tokens=max_new, do_sample=False, num_beams=1, repetition_penalty=1.0,
                                  no_repeat_ngram_size=0, temperature=1.0, top_k=0, top_p=1.0,
                                  eos_token_id=sorted(self.eos_ids), pad_token_id=self.tokenizer.pad_token_id)
        model = self.model
        context = torch.inference_mode()
        if adapter:
            name = self._adapter_name(adapter)
            self.peft.set_adapter(name)
            model = self.peft
        elif self.peft is not None:
            model = self.peft
        with context:
            if self.peft is not None and not adapter:
                with self.peft.disable_adapter():
                    out = model.generate(**enc, generation_config=config,
                                         logits_processor=LogitsProcessorList([sampler]))
            else:
                out = model.generate(**enc, generation_config=config, logits_processor=LogitsProcessorList([sampler]))
        ended = time.perf_counter()
        generated = out[:, width:].tolist()
        results = []
        for i, tokens in enumerate(generated):
            count, reason = len(tokens), "length"
            for j, tok in enumerate(tokens):
                if tok in self.eos_ids:
                    count, reason = j + 1, "stop"
                    break
            text = self.tokenizer.decode(tokens[:count], skip_special_tokens=True)
            finished = sampler.finished_at[i] or ended
            results.append(GenerationResult(text=text, prompt_tokens=int(prompt_lens[i]), completion_tokens=count,
                                            latency_ms=int((finished - sampler.started) * 1000), finish_reason=reason,
                                            token_ids=tokens[:count]))
        return results

    def choose(self, requests: list[GenerationRequest], labels: list[str]) -> list[str]:
        """For each request, the label the model (with the request's adapter, or the base) finds most likely as
        its whole answer (`workers.generation.scoring`); sampling parameters play no part."""
        from workers.generation.scoring import choice_scores

        picked: list[str | None] = [None] * len(requests)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, req in enumerate(requests):
            groups[req.adapter or ""].append(i)
        for adapter, indexes in groups.items():
            prompts = [requests[i].messages for i in indexes]
            if adapter:
                name = self._adapter_name(adapter)  # loads it (and wraps the base) on first use
                self.peft.set_adapter(name)
                scores = choice_scores(self.peft, self.tokenizer, prompts, labels)
            elif self.peft is not None:
                with self.peft.disable_adapter():
                    scores = choice_scores(self.peft, self.tokenizer, prompts, labels)
            else:
                scores = choice_scores(self.model, self.tokenizer, prompts, labels)
            for i, score in zip(indexes, scores, strict=True):
                picked[i] = score.label
        return picked  # type: ignore[return-value]

    def close(self) -> None:
        self.peft = None
        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
