"""End to end on the CPU with the tiny model and a real Celery worker: snapshot -> LoRA training -> adapter ->
new model version -> generation through the backend -> a blind round new vs parent. And a SIGKILL mid-training."""
import hashlib
import json
import stat
from pathlib import Path

import pytest
from django.conf import settings

from labelstudio_app.evaluation.models import Candidate, ModelVersion
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_enqueue
from labelstudio_app.review.models import Comparison, ComparisonRound
from labelstudio_app.training import services
from labelstudio_app.training.models import TrainingRun
from tests.conftest import make_world, wait_for
from tests.training.factories import approved_items, base_version

pytestmark = pytest.mark.worker

HP = {"r": 8, "alpha": 16, "learning_rate": 5e-3, "batch_size": 4, "max_seq_length": 128, "warmup_ratio": 0,
      "lr_scheduler": "constant", "seed": 1}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _setup(tiny_model_dir, n_items=40, heldout=4):
    world = make_world()
    admin = world.users["admin"]
    approved_items(world.project, n_items)
    base = base_version(world.project, admin, tiny_model_dir)
    snap = services.snapshot_create(project=world.project, user=admin, name="第一批 batch 1",
                                    recipe={"heldout": {"n": heldout}, "seed": 3})
    return world, admin, base, snap


def _job(pk):
    return Job.objects.get(pk=pk)


def test_it_trains_registers_generates_and_opens_a_blind_round(worker_process, tiny_model_dir):
    world, admin, base, snap = _setup(tiny_model_dir)
    base_weights = Path(base.base_model) / "model.safetensors"
    before = _sha(base_weights)
    run = services.training_run_create(project=world.project, user=admin, base_version=base, snapshot=snap,
                                       hyperparams={**HP, "max_steps": 30, "save_steps": 10})
    worker_process()
    job_enqueue(job_id=run.job_id)
    done = wait_for(lambda: _job(run.job_id).is_finished and _job(run.job_id), timeout=240, what="training")
    assert done.state == "succeeded", done.error + done.log
    run.refresh_from_db()

    # the loss fell, streamed step by step
    steps = [p[0] for p in run.loss_history]
    assert steps == list(range(1, 31))
    first, last = [p[1] for p in run.loss_history[:5]], [p[1] for p in run.loss_history[-5:]]
    assert sum(last) / 5 < sum(first) / 5 - 0.2, run.loss_history
    assert done.progress_done == 30 and "verified" in done.log

    # the adapter in PEFT format, with the snapshot hash and hyper-parameters
    adapter = Path(settings.ARTIFACTS_DIR) / "adapters" / str(run.pk)
    assert (adapter / "adapter_config.json").exists() and (adapter / "adapter_model.safetensors").exists()
    meta = json.loads((adapter / "flywheel.json").read_text())
    assert meta["snapshot_sha256"] == snap.sha256 and meta["hyperparams"]["r"] == 8

    # base weights unchanged, LoRA weights moved (lora_B starts at zero)
    assert _sha(base_weights) == before
    from safetensors.torch import load_file

    tensors = load_file(adapter / "adapter_model.safetensors")
    lora_b = [t for k, t in tensors.items() if "lora_B" in k]
    assert lora_b and all(float(t.abs().sum()) > 0 for t in lora_b)

    # a new model version whose parent is the base
    new = run.result_version
    assert new.parent_id == base.pk and new.adapter_path == str(adapter)
    assert new.metadata["snapshot_sha256"] == snap.sha256

    # the adapter reloads through the generation backend and generates
    from workers.generation.backends import backends_close, load_backend
    from workers.generation.base import GenerationRequest, ModelSpec, SamplingParams

    backend = load_backend(ModelSpec(base_model=new.base_model, adapter_path=new.adapter_path))
    try:
        out = backend.generate([GenerationRequest(messages=[{"role": "user", "content": "怎么部署到 TX2？"}],
                                                  params=SamplingParams(temperature=0, max_new_tokens=8),
                                                  adapter=new.adapter_path)])
    finally:
        backends_close()
    assert out[0].completion_tokens > 0

    # the blind round new vs parent on the held-out items opens once generation is done
    rnd = run.result_round
    assert (rnd.model_a_id, rnd.model_b_id) == (new.pk, base.pk)
    wait_for(lambda: ComparisonRound.objects.get(pk=rnd.pk).status == "open", timeout=120, what="round to open")
    comparisons = list(Comparison.objects.filter(round=rnd).select_related("candidate_a", "candidate_b"))
    assert sorted(c.item_id for c in comparisons) == sorted(snap.heldout_item_ids)
    assert {c.candidate_a.model_version_id for c in comparisons} == {new.pk}
    assert {c.candidate_b.model_version_id for c in comparisons} == {base.pk}
    assert Candidate.objects.filter(model_version=new, item_id__in=snap.heldout_item_ids).count() == 4


def test_it_resumes_from_the_last_checkpoint_after_the_worker_is_killed(worker_process, tiny_model_dir):
    world, admin, base, snap = _setup(tiny_model_dir, n_items=40, heldout=2)
    run = services.training_run_create(project=world.project, user=admin, base_version=base, snapshot=snap,
                                       hyperparams={**HP, "max_steps": 60, "save_steps": 10, "batch_size": 8})
    first = worker_process()
    job_enqueue(job_id=run.job_id)
    ckpt = Path(settings.ARTIFACTS_DIR) / "training" / str(run.pk) / "checkpoints"
    wait_for(lambda: (ckpt / "checkpoint-20" / "trainer_state.json").exists(), timeout=180, what="checkpoint 20")
    first.kill()
    killed_at = max(p[0] for p in TrainingRun.objects.get(pk=run.pk).loss_history)
    assert killed_at < 60 and _job(run.job_id).state == "running"

    worker_process()
    done = wait_for(lambda: _job(run.job_id).is_finished and _job(run.job_id), timeout=240, what="resumed run")
    assert done.state == "succeeded", done.error + done.log
    assert done.attempts == 2
    resumed = [line for line in done.log.splitlines() if "resuming from checkpoint-" in line]
    assert len(resumed) == 1
    start = int(resumed[0].split("(step ")[1].rstrip(")"))
    assert start >= 20 and start % 10 == 0
    run.refresh_from_db()
    steps = [p[0] for p in run.loss_history]
    assert steps == list(range(1, 61))  # every step once: the resumed part replaced what the dead worker left
    assert ModelVersion.objects.filter(project=world.project, parent=base).count() == 1
    assert ComparisonRound.objects.filter(project=world.project).count() == 1


def test_it_refuses_to_train_on_a_tampered_snapshot(worker_process, tiny_model_dir):
    world, admin, base, snap = _setup(tiny_model_dir, n_items=10, heldout=0)
    run = services.training_run_create(project=world.project, user=admin, base_version=base, snapshot=snap,
                                       hyperparams={**HP, "max_steps": 2})
    path = services.snapshot_file(snap)
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    path.chmod(0o644)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]})
                 + "\n")
    worker_process()
    job_enqueue(job_id=run.job_id)
    done = wait_for(lambda: _job(run.job_id).is_finished and _job(run.job_id), timeout=120, what="refusal")
    assert done.state == "failed"
    assert "was changed after it was made" in done.error and "refusing to train" in done.error
    assert not (Path(settings.ARTIFACTS_DIR) / "adapters" / str(run.pk)).exists()
    assert ModelVersion.objects.filter(project=world.project).count() == 1
