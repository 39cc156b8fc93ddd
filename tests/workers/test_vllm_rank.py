"""The LoRA rank check for the vllm backend (pure: no vllm needed)."""
import json

import pytest

from workers.generation.vllm_backend import AdapterRankError, adapter_rank_check, max_lora_rank_for


def _adapter(tmp_path, name, r, rank_pattern=None):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": r, "rank_pattern": rank_pattern or {}}))
    return str(folder)


def test_it_starts_vllm_with_the_smallest_rank_that_fits_the_adapters(tmp_path):
    assert max_lora_rank_for([]) == 16
    assert max_lora_rank_for([_adapter(tmp_path, "a", 8)]) == 16
    assert max_lora_rank_for([_adapter(tmp_path, "b", 16), _adapter(tmp_path, "c", 48)]) == 64
    assert max_lora_rank_for([_adapter(tmp_path, "d", 8, {"q_proj": 200})]) == 256


def test_it_refuses_a_rank_vllm_cannot_take_with_a_clear_message(tmp_path):
    with pytest.raises(AdapterRankError, match=r"rank 1024.*up to 512"):
        adapter_rank_check(_adapter(tmp_path, "big", 1024))
    with pytest.raises(AdapterRankError, match="max_lora_rank 16"):
        max_lora_rank_for([_adapter(tmp_path, "mid", 32)], requested=16)
    with pytest.raises(AdapterRankError, match="not one vLLM accepts"):
        max_lora_rank_for([], requested=24)
    with pytest.raises(AdapterRankError, match="cannot be read"):
        adapter_rank_check(tmp_path / "missing")
