"""Runs the real vllm backend (workers/generation/vllm_backend.py) on a model folder, with and without a
LoRA adapter, and prints JSON. Runs inside the vllm virtualenv (.venv-vllm), where Django is not installed:

    .venv-vllm/bin/python -m workers.generation.vllm_selfcheck MODEL_DIR [ADAPTER_DIR]
"""
import json
import sys
import time

from workers.generation.base import GenerationRequest, ModelSpec, SamplingParams

PROMPTS = ["怎么把 mmpose 部署到 TX2？", "Does ncnn run on RK3588 with fp16?", "LoRA 的 rank 应该怎么选？"]


def selfcheck(model_dir: str, adapter_dir: str | None) -> dict:
    from workers.generation.vllm_backend import VllmBackend

    started = time.perf_counter()
    backend = VllmBackend(ModelSpec(base_model=model_dir, backend="vllm", options={"max_lora_rank": 16}))
    load = time.perf_counter() - started
    greedy = SamplingParams(temperature=0, max_new_tokens=16)
    sampled = [SamplingParams(temperature=1.0, top_p=0.9, top_k=50, repetition_penalty=1.1, max_new_tokens=16,
                              seed=s) for s in (1, 2, 1)]

    def run(adapter, params):
        reqs = [GenerationRequest(messages=[{"role": "user", "content": p}], params=params[i % len(params)],
                                  adapter=adapter) for i, p in enumerate(PROMPTS)]
        return [r.__dict__ for r in backend.generate(reqs)]

    out = {"prompt_ids": backend._prompt_ids([{"role": "user", "content": PROMPTS[0]}]),
           "load_seconds": round(load, 1), "base": run(None, [greedy]), "sampled": run(None, sampled)}
    same_prompt = [GenerationRequest(messages=[{"role": "user", "content": PROMPTS[0]}], params=p) for p in sampled]
    out["same_prompt_seeds"] = [r.text for r in backend.generate(same_prompt)]
    if adapter_dir:
        out["adapter"] = run(adapter_dir, [greedy])
        mixed = [GenerationRequest(messages=[{"role": "user", "content": PROMPTS[0]}], params=greedy, adapter=a)
                 for a in (None, adapter_dir)]
        out["mixed"] = [r.text for r in backend.generate(mixed)]
    try:
        out["no_repeat_ngram_size_error"] = None
        backend.generate([GenerationRequest(messages=[{"role": "user", "content": "x"}],
                                            params=SamplingParams(no_repeat_ngram_size=3))])
    except ValueError as exc:
        out["no_repeat_ngram_size_error"] = str(exc)
    import transformers
    import vllm

    out["versions"] = {"vllm": vllm.__version__, "transformers": transformers.__version__}
    return out


if __name__ == "__main__":  # vLLM's engine starts worker processes with spawn: keep this guard
    result = selfcheck(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    print("SELFCHECK-JSON " + json.dumps(result, ensure_ascii=False))
