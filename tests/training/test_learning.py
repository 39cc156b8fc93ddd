"""The loop makes a real pretrained model better on held-out items.

SmolLM2-135M-Instruct (the converted folder `make test` prepares) is trained through the real training job in a
real worker process on a small subset of `needs_context.jsonl` ("does this message need the chat context?", yes or
no), with a random quarter of the items held out. The automatic held-out audit (likelihood scoring) must then put
the adapter clearly above the majority-label baseline and above the base model. Held-out items share question
templates with training items here, so a few minutes of CPU training suffice; generalising to whole unseen templates
takes ~400 rows and is measured by `bench/loop.py`.

Why this fails when the loop breaks:
- the loss mask: masking nothing refuses to train (the job fails); masking everything spreads the few steps over
  the prompt tokens instead of the one answer token, and the adapter stays at the base model's answers;
- the renderer: training rows and audit prompts come from `item_prompt_messages`; if training learned another
  layout or lost the system prompt / instruction, the likelihood of the option after the audit's prompt is not what
  was trained, and the adapter does not beat the baseline;
- the data path: if the final label does not reach the snapshot's rows through the training template (empty
  output, wrong value), or held-out items leak into or vanish from training, the adapter has nothing to learn
  (or the audit has nothing to score) and the assertions below fail.
"""
import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from labelstudio_app.evaluation.services import model_version_create
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_cancel, job_enqueue
from labelstudio_app.projects.models import Item
from labelstudio_app.training import selectors, services
from labelstudio_app.training.models import TrainingRun
from tests.conftest import make_world, wait_for
from tests.factories import ItemFactory
from tests.projects.factories import write_samples
from workers.models.smollm2 import default_model_dir, smollm2_prepare

# Training ~70 rows six times over on a 2-core CPU takes minutes, beyond the suite-wide 300 s limit.
pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.timeout(2400)]

QUESTION = {"name": "needs_context", "kind": "single_choice", "label": "Does it need the chat context?",
            "required": True, "options": [{"value": "yes", "label": "needs the context", "key": "1"},
                                          {"value": "no", "label": "stands alone", "key": "2"}]}
TEMPLATE = {"system": "You label questions from a developer group chat.",
            "instruction": "Chat context:\n{context}\n\nMessage: {text}\n\nDoes the message need the chat context "
                           "to be understood? Answer yes or no.",
            "output": "{value:needs_context}"}
TRUTH = {"需要": "yes", "不需要": "no"}
HP = {"r": 16, "alpha": 32, "dropout": 0.0, "learning_rate": 5e-4, "epochs": 6, "batch_size": 8,
      "max_seq_length": 192, "warmup_ratio": 0, "lr_scheduler": "constant", "save_steps": 1000, "seed": 0}
PER_TEMPLATE, HELD_OUT = 4, 24


def _smollm2_under_artifacts() -> Path:
    """The prepared model folder, hard-linked (copied across file systems) under the artifacts dir, a model root."""
    src = smollm2_prepare(default_model_dir())
    dest = Path(settings.ARTIFACTS_DIR) / "models" / "smollm2"
    if not (dest / "model.safetensors").exists():
        def link(a, b):
            try:
                os.link(a, b)
            except OSError:
                shutil.copy2(a, b)
        shutil.copytree(src, dest, copy_function=link, dirs_exist_ok=True)
    return dest


def _items(project, folder: Path) -> None:
    """Every template of both kinds (needs / stands alone), four items each, with their ground-truth labels."""
    rows = [json.loads(line) for line in (write_samples(folder) / "needs_context.jsonl").open(encoding="utf-8")]
    by_template: dict[str, list[dict]] = {}
    for row in rows:
        if row["label"] in TRUTH:
            by_template.setdefault(row["template"], []).append(row)
    for family in ("needs", "standalone"):
        names = sorted(t for t, rs in by_template.items() if t.startswith(family) and len(rs) >= PER_TEMPLATE)
        for name in names:
            for row in random.Random(name).sample(by_template[name], PER_TEMPLATE):
                ItemFactory(project=project, status=Item.Status.DONE, text=row["text"], context=row["context"],
                            task_type=row["task_type"], final_values={"needs_context": TRUTH[row["label"]]},
                            metadata={"template": row["template"]})


def _snapshot_with_both_labels(project, admin):
    """A random held-out draw; the first seed whose held-out items have each label at least a third of the time."""
    for seed in range(20):
        snap = services.snapshot_create(project=project, user=admin, name=f"held out ({seed})",
                                        recipe={"heldout": {"n": HELD_OUT}, "seed": seed})
        labels = Counter(Item.objects.get(pk=i).final_values["needs_context"] for i in snap.heldout_item_ids)
        if min(labels["yes"], labels["no"]) >= HELD_OUT // 3:
            return snap
    raise AssertionError("no held-out draw had both labels")


def test_it_beats_the_majority_baseline_on_held_out_items_after_training(worker_process, tmp_path):
    world = make_world()
    admin, project = world.users["admin"], world.project
    project.label_schema, project.training_template = [QUESTION], TEMPLATE
    project.save(update_fields=["label_schema", "training_template"])
    _items(project, tmp_path)
    base = model_version_create(project=project, user=admin, name="SmolLM2-135M-Instruct",
                                base_model=str(_smollm2_under_artifacts()))
    snap = _snapshot_with_both_labels(project, admin)
    held = set(snap.heldout_item_ids)
    assert len(held) == HELD_OUT and snap.row_count == Item.objects.filter(project=project).count() - HELD_OUT
    run = services.training_run_create(project=project, user=admin, base_version=base, snapshot=snap,
                                       hyperparams=HP, heldout_scoring="likelihood")
    worker_process()
    job_enqueue(job_id=run.job_id)
    job = wait_for(lambda: Job.objects.get(pk=run.job_id).is_finished and Job.objects.get(pk=run.job_id),
                   timeout=1500, interval=2, what="training")
    assert job.state == "succeeded", job.error + job.log[-3000:]
    # The new-vs-parent round's generation is queued before the audit on the one worker; it is not what this test
    # measures (tests/training/test_heldout_evaluation.py covers the round), so it is cancelled to save minutes.
    for queued in Job.objects.filter(project=project, kind="generation"):
        job_cancel(job=queued)
    audit = wait_for(lambda: TrainingRun.objects.get(pk=run.pk).heldout_audit, timeout=120, what="held-out audit")
    audit_job = wait_for(lambda: Job.objects.get(pk=audit.job_id).is_finished and Job.objects.get(pk=audit.job_id),
                         timeout=900, interval=2, what="held-out audit job")
    assert audit_job.state == "succeeded", audit_job.error + audit_job.log[-3000:]

    run = TrainingRun.objects.select_related("heldout_audit").get(pk=run.pk)
    report = selectors.training_run_heldout_report(run=run)
    assert report["n"] == len(held) == report["expected"]  # every held-out item, both versions, nothing else
    assert sorted(audit.item_ids) == sorted(held)
    summary = {k: report[k] for k in ("base", "new", "baseline", "mcnemar")}
    assert report["new"]["accuracy"] >= report["baseline"]["accuracy"] + 0.2, summary
    assert report["new"]["accuracy"] > report["base"]["accuracy"], summary
    # the held-out answer loss fell: the model learned this answer, not just some text
    assert run.eval_loss_history[-1][1] < run.eval_loss_history[0][1], run.eval_loss_history
