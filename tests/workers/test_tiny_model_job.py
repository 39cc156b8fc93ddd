"""The tiny_model job builds the demo model under ARTIFACTS_DIR and registers it, once."""
from django.core.management import call_command

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from tests.factories import ProjectFactory
from workers.context import JobContext
from workers.generation.tiny import TINY_NAME, tiny_model_dir, tiny_model_run


def test_it_builds_and_registers_the_tiny_model_once(db):
    project = ProjectFactory()
    results = []
    for _ in range(2):
        job = job_services.job_create(kind="tiny_model", project=project, params={"pretrain_steps": 5}, total=2)
        assert job.queue == "gpu"
        claimed = job_services.job_claim(job_id=job.pk, worker="inline")
        results.append(tiny_model_run(JobContext(job=claimed, worker="inline")))
    [mv] = ModelVersion.objects.filter(project=project)
    assert mv.name == TINY_NAME and results[0] == results[1] == {"model_version_id": mv.pk,
                                                                 "path": str(tiny_model_dir())}
    assert mv.parameter_count > 100_000 and mv.metadata["chat_template"] == "ok"
    assert (tiny_model_dir() / "model.safetensors").exists()


def test_it_queues_the_tiny_model_from_the_command(db):
    project = ProjectFactory()
    call_command("flywheel_tiny_model", project=project.pk)
    assert Job.objects.filter(project=project, kind="tiny_model", queue="gpu").count() == 1
