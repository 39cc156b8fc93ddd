"""An audit job in a real Celery worker process, on the tiny model (base and a LoRA adapter), on the CPU."""
import pytest
from django.urls import reverse

from labelstudio_app.accounts.models import Membership
from labelstudio_app.audit import services
from labelstudio_app.audit.models import AuditPrediction
from labelstudio_app.evaluation.services import model_version_create
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from tests.audit.factories import labelled_project
from tests.conftest import wait_for
from tests.evaluation.fixtures import tiny_adapter_root, tiny_model_root  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.worker


def _finished(job_id):
    job_services.job_enqueue(job_id=job_id)  # a transactional test has no commit hook to send it
    return wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_finished and j, timeout=120, what="the audit job")


def test_it_runs_an_audit_on_the_tiny_model_and_the_page_shows_it(worker_process, tiny_model_root,  # noqa: F811
                                                                   tiny_adapter_root, client):  # noqa: F811
    manager = UserFactory(username="audit_mia")
    project, items = labelled_project(labels=["yes", "no", "yes", "not_question", "no", "yes"])
    Membership.objects.create(user=manager, project=project, role="manager")
    base = model_version_create(project=project, user=manager, name="tiny base", base_model=str(tiny_model_root))
    tuned = model_version_create(project=project, user=manager, name="tiny + LoRA", base_model=str(tiny_model_root),
                                 adapter_path=str(tiny_adapter_root), parent=base)
    worker_process()
    run = services.audit_run_create(project=project, user=manager, question="needs_context",
                                    model_versions=[base, tuned], positive_class="yes", max_new_tokens=8)
    job = _finished(run.job_id)
    assert job.state == "succeeded", job.error
    assert job.percent == 100 and job.result["predictions"] == 12
    preds = list(AuditPrediction.objects.filter(run=run))
    assert {(p.model_version_id, p.item_id) for p in preds} == {(mv.pk, i.pk) for mv in (base, tuned) for i in items}
    for p in preds:
        assert p.raw_output is not None and p.completion_tokens >= 1 and p.prompt_tokens > 10
        assert p.human_value == next(i for i in items if i.pk == p.item_id).final_values["needs_context"]
        assert (p.predicted_value is None) == (p.rule in ("unparseable", "ambiguous"))

    client.force_login(manager)
    page = client.get(reverse("audit-detail", kwargs={"project_id": project.pk, "run_id": run.pk})).content.decode()
    assert "tiny base" in page and "tiny + LoRA" in page and "<svg" in page and 'class="table audit-metrics"' in page
    assert page.count('class="model-row"') == 2

    # A redelivered job only fills gaps: drop two answers and run the audit's job kind again.
    AuditPrediction.objects.filter(pk__in=[p.pk for p in preds[:2]]).delete()
    again = _finished(job_services.job_create(kind="audit", user=manager, project=project,
                                              params={"run_id": run.pk}).pk)
    assert again.state == "succeeded" and again.result["predictions"] == 12
    assert sum(m["new"] for m in again.result["models"].values()) == 2
