"""After a real (tiny) training run: eval loss on the held-out rows (when the runner takes them) and an automatic
audit of base vs new version on the held-out items only, shown on the run page with the majority baseline."""
import inspect

import pytest
from django.urls import reverse

from labelstudio_app.audit.models import AuditPrediction, AuditRun
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_enqueue
from labelstudio_app.projects.models import Item
from labelstudio_app.training import services
from labelstudio_app.training.models import TrainingRun
from tests.audit.factories import QUESTION
from tests.conftest import make_world, wait_for
from tests.factories import ItemFactory
from tests.training.factories import base_version
from workers.training import lora

pytestmark = pytest.mark.worker

HP = {"r": 8, "alpha": 16, "learning_rate": 5e-3, "batch_size": 4, "max_seq_length": 128, "warmup_ratio": 0,
      "lr_scheduler": "constant", "seed": 1, "max_steps": 6, "save_steps": 50}
TEMPLATE = {"system": "Answer 需要 or 不需要.", "instruction": "{context}\n\n{text}",
            "output": "{label:needs_context|yes=需要|no=不需要|not_question=不是问题}"}


def _items(project, n=24):
    for i in range(n):
        label = ["yes", "no", "yes"][i % 3]
        ItemFactory(project=project, status=Item.Status.DONE, text=f"Does it work on TX2? #{i}",
                    context=[{"sender": "u", "text": f"mmdeploy {i}", "time": ""}],
                    final_values={"needs_context": label}, metadata={"template": f"tpl-{i % 6}"})


def test_it_audits_base_and_new_version_on_heldout_items_after_training(worker_process, tiny_model_dir, client):
    world = make_world()
    admin, project = world.users["admin"], world.project
    project.label_schema, project.training_template = [QUESTION], TEMPLATE
    project.save(update_fields=["label_schema", "training_template"])
    _items(project)
    base = base_version(project, admin, tiny_model_dir)
    snap = services.snapshot_create(project=project, user=admin, name="by template",
                                    recipe={"heldout": {"n": 2, "by": "metadata.template"}, "seed": 1})
    run = services.training_run_create(project=project, user=admin, base_version=base, snapshot=snap,
                                       hyperparams=HP)
    worker_process()
    job_enqueue(job_id=run.job_id)
    job = wait_for(lambda: Job.objects.get(pk=run.job_id).is_finished and Job.objects.get(pk=run.job_id),
                   timeout=240, what="training")
    assert job.state == "succeeded", job.error + job.log
    audit = wait_for(lambda: TrainingRun.objects.get(pk=run.pk).heldout_audit, timeout=60, what="held-out audit")
    audit_job = wait_for(lambda: Job.objects.get(pk=audit.job_id).is_finished and Job.objects.get(pk=audit.job_id),
                         timeout=240, what="audit job")
    assert audit_job.state == "succeeded", audit_job.error + audit_job.log
    run.refresh_from_db()

    # held-out items only, both versions, never a training item
    assert audit.scope == AuditRun.Scope.HELDOUT and audit.snapshot_id == snap.pk
    assert sorted(audit.item_ids) == sorted(snap.heldout_item_ids) and len(audit.item_ids) == 8
    asked = AuditPrediction.objects.filter(run=audit)
    assert set(asked.values_list("item_id", flat=True)) == set(snap.heldout_item_ids)
    assert set(asked.values_list("model_version_id", flat=True)) == {base.pk, run.result_version_id}

    if "eval_conversations" in inspect.signature(lora.train).parameters:
        assert run.eval_loss_history, job.log
    else:
        assert "does not take an evaluation set" in job.log

    client.force_login(admin)
    page = client.get(reverse("training-detail", kwargs={"project_id": project.pk, "run_id": run.pk}))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="heldout-report"' in html
    # held-out labels: 2 templates of 4 items; the majority label's share is the baseline
    labels = [Item.objects.get(pk=i).final_values["needs_context"] for i in snap.heldout_item_ids]
    majority = max(["yes", "no", "not_question"], key=labels.count)  # ties: the first option
    assert f'always "{majority}"' in html
    assert f"{labels.count(majority) / len(labels):.3f}" in html
    assert "Exact McNemar test: p = " in html and "95% interval" in html
    # the automatic new-vs-parent round shows the same baseline, so a constant answer cannot pass for a win
    round_page = client.get(reverse("round-detail", kwargs={"project_id": project.pk, "round_id": run.result_round_id}))
    assert f'always "{majority}" on 8 labelled items' in round_page.content.decode()
