"""Fixtures shared by the generation tests (import them into a test module to use them)."""
import shutil
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def tiny_model_root(tiny_model_dir) -> Path:
    """The session's tiny model copied under settings.ARTIFACTS_DIR (an allowed model root, which a worker
    process started by the tests shares through FLYWHEEL_DATA_DIR)."""
    target = Path(settings.ARTIFACTS_DIR) / "models" / "tiny-test"
    if not (target / "config.json").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(tiny_model_dir, target, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="session")
def tiny_adapter_root(tiny_model_root) -> Path:
    """A LoRA adapter (q_proj/v_proj, rank 8) on the tiny model whose B matrices are non-zero, so its
    answers differ from the base model's."""
    from tests.evaluation.adapters import make_lora_adapter

    # Under models/ (shared by every project), not adapters/, which holds only training runs' adapters.
    target = Path(settings.ARTIFACTS_DIR) / "models" / "tiny-lora"
    if not (target / "adapter_model.safetensors").exists():
        make_lora_adapter(tiny_model_root, target, seed=1)
    return target
