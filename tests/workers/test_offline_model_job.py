"""The `offline_model` job prepares SmolLM2-135M-Instruct under ARTIFACTS_DIR/models and registers it, once,
through a real worker; the folder converted in the model cache is reused, so the test stays fast."""
import pytest

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_create
from tests.conftest import wait_for
from tests.factories import ProjectFactory
from workers.models.job import VERSION_NAME, offline_model_dir
from workers.models.smollm2 import default_model_dir, smollm2_prepare

pytestmark = pytest.mark.worker


def _finished(pk):
    job = Job.objects.get(pk=pk)
    return job if job.is_finished else None


def test_it_prepares_registers_and_reuses_smollm2_through_the_worker(worker_process):
    smollm2_prepare(default_model_dir())  # the model cache `make run` fills; a no-op once converted
    worker = worker_process()
    project = ProjectFactory()
    first = job_create(kind="offline_model", project=project, total=4)
    assert first.queue == "gpu"
    job = wait_for(lambda: _finished(first.pk), timeout=300, what="the offline model job")
    assert job.state == "succeeded", job.error + worker.log()[-3000:]
    [mv] = ModelVersion.objects.filter(project=project)
    assert mv.name == VERSION_NAME and mv.base_model == str(offline_model_dir().resolve())
    assert 130_000_000 < mv.parameter_count < 140_000_000
    assert (offline_model_dir() / "model.safetensors").is_file()
    # Registration queued the template check; SmolLM2's stock template (no generation tags) can be masked.
    mv = wait_for(lambda: ModelVersion.objects.filter(pk=mv.pk, template_ok__isnull=False).first(), timeout=120,
                  what="the chat template check")
    assert mv.template_ok is True and mv.template_error == ""
    again = job_create(kind="offline_model", project=project, total=4)
    job = wait_for(lambda: _finished(again.pk), timeout=120, what="the second offline model job")
    assert job.state == "succeeded" and job.result["model_version_id"] == mv.pk
    assert "copied" not in job.log and "converted" not in job.log  # the folder was ready: nothing done twice
    assert ModelVersion.objects.filter(project=project).count() == 1
