"""lora.train on the tiny model with a stock template (no {% generation %} tags): held-out eval loss, resume,
truncation counts, shareable adapter files."""
import pytest

from labelstudio_app.training.hyperparams import LoraHyperparams
from tests.workers.test_lora_mask import SMOLLM2
from workers.training.lora import TrainConfig, train

QA = [("Does ncnn run on RK3588?", "Yes."), ("怎么把 mmpose 部署到 TX2？", "用 mmdeploy 导出。"),
      ("What is LoRA?", "A low-rank update."), ("pip install 失败怎么办？", "先升级 pip。")]


def _convs(n):
    return [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": q},
             {"role": "assistant", "content": a}] for q, a in (QA * n)[:n]]


@pytest.fixture
def stock_model(tiny_model_dir, tmp_path):
    """The tiny model with SmolLM2's template, which has no generation tags."""
    import shutil

    from transformers import AutoTokenizer

    folder = tmp_path / "stock"
    shutil.copytree(tiny_model_dir, folder)
    tok = AutoTokenizer.from_pretrained(folder)
    tok.chat_template = SMOLLM2
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    tok.save_pretrained(folder)
    return folder


def test_it_trains_a_stock_template_and_reports_the_held_out_loss_and_resumes(stock_model, tmp_path):
    hp = LoraHyperparams(r=8, alpha=16, learning_rate=5e-3, batch_size=4, max_steps=6, save_steps=3,
                         max_seq_length=128)
    cfg = TrainConfig(base_model=str(stock_model), output_dir=str(tmp_path / "ckpt"),
                      adapter_dir=str(tmp_path / "adapter"), hyperparams=hp)
    seen = []
    result = train(cfg, _convs(16), eval_conversations=_convs(4), on_eval=lambda s, loss: seen.append(s),
                   log=lambda t: None)
    assert [s for s, _ in result.eval_losses] == seen == [0, 3, 6]
    first, last = result.eval_losses[0][1], result.eval_losses[-1][1]
    assert last < first  # the held-out answers (same task) get more likely
    assert result.truncated == 0 and result.truncated_eot_lost == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "adapter").iterdir()}
    assert modes["adapter_model.safetensors"] == 0o644 and modes["adapter_config.json"] == 0o644
    assert ((tmp_path / "adapter").stat().st_mode & 0o777) == 0o755

    # A second run with more steps resumes from checkpoint 6 and keeps reporting the eval loss.
    more = TrainConfig(**{**cfg.__dict__, "hyperparams": LoraHyperparams(**{**hp.to_dict(), "max_steps": 9})})
    resumed = train(more, _convs(16), eval_conversations=_convs(4), log=lambda t: None)
    assert resumed.resumed_from_step == 6 and [s for s, _ in resumed.eval_losses] == [9]


def test_it_counts_examples_whose_answer_the_max_length_cut(stock_model, tmp_path):
    long = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Explain."},
             {"role": "assistant", "content": "word " * 200}]]
    hp = LoraHyperparams(r=4, alpha=8, batch_size=2, max_steps=1, max_seq_length=128)
    result = train(TrainConfig(base_model=str(stock_model), output_dir=str(tmp_path / "c"),
                               adapter_dir=str(tmp_path / "a"), hyperparams=hp), _convs(3) + long, log=lambda t: None)
    assert result.truncated == 1 and result.truncated_eot_lost == 1 and result.examples == 4


def test_it_trains_in_the_precision_asked_and_says_which(stock_model, tmp_path):
    """auto is float32 on a CPU (bf16 scored lower on held-out items there); bf16 is honoured where the CPU has it
    and refused with a reason where it has not."""
    from workers.training.lora import TrainingError, bf16_native

    def run(precision, name):
        hp = LoraHyperparams(r=4, alpha=8, batch_size=2, max_steps=2, max_seq_length=128, precision=precision)
        return train(TrainConfig(base_model=str(stock_model), output_dir=str(tmp_path / name),
                                 adapter_dir=str(tmp_path / f"{name}-adapter"), hyperparams=hp), _convs(4),
                     log=lambda t: None)

    assert run("auto", "auto").precision == "fp32"
    assert run("fp32", "fp32").precision == "fp32"
    if bf16_native():
        result = run("bf16", "bf16")
        assert result.precision == "bf16" and result.losses and all(loss == loss for _, loss in result.losses)
    else:
        with pytest.raises(TrainingError, match="no native bfloat16"):
            run("bf16", "bf16")
