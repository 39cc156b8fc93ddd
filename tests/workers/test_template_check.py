"""A model version whose chat template cannot be masked is refused for training, with the reason: checked by
a worker at registration, recorded on the version, and checked again when a training job starts."""
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.evaluation.services import model_version_create
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_claim
from labelstudio_app.training import services
from tests.conftest import make_world
from tests.training.factories import approved_items
from workers.context import JobContext
from workers.models.template import template_check_run
from workers.tasks import run_job

# Renders the roles and never the content: no assistant answer can be found in it.
CONTENTLESS = "{% for m in messages %}<|{{ m['role'] }}|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"


def _model_with_template(tiny_model_dir: Path, name: str, template: str | None) -> Path:
    dest = Path(settings.ARTIFACTS_DIR) / "models" / name
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(tiny_model_dir, dest)
    if template is not None:
        (dest / "chat_template.jinja").unlink(missing_ok=True)
        config_path = dest / "tokenizer_config.json"
        config = json.loads(config_path.read_text())
        config["chat_template"] = template
        config_path.write_text(json.dumps(config))
    return dest


def _check(mv: ModelVersion) -> ModelVersion:
    [job] = Job.objects.filter(kind="template_check", params__model_version_id=mv.pk)
    template_check_run(JobContext(job=job_claim(job_id=job.pk, worker="inline"), worker="inline"))
    mv.refresh_from_db()
    return mv


def test_it_records_a_good_template_and_refuses_training_on_a_bad_one_with_the_reason(db, tiny_model_dir):
    world = make_world()
    admin = world.users["admin"]
    good = _check(model_version_create(project=world.project, user=admin, name="tiny",
                                       base_model=str(_model_with_template(tiny_model_dir, "tiny-good", None))))
    assert good.template_ok is True
    bad = _check(model_version_create(project=world.project, user=admin, name="contentless",
                                      base_model=str(_model_with_template(tiny_model_dir, "tiny-bad", CONTENTLESS))))
    assert bad.template_ok is False and "assistant" in bad.template_error
    approved_items(world.project, 6)
    snap = services.snapshot_create(project=world.project, user=admin, name="s", recipe={})
    with pytest.raises(ValidationError) as exc:
        services.training_run_create(project=world.project, user=admin, base_version=bad, snapshot=snap)
    [message] = exc.value.message_dict["base_version"]
    assert "contentless cannot be trained: its chat template cannot be masked" in message
    assert bad.template_error in message


def test_it_fails_a_training_job_on_an_unchecked_bad_template_with_the_message_not_a_traceback(db, tiny_model_dir):
    world = make_world()
    admin = world.users["admin"]
    mv = model_version_create(project=world.project, user=admin, name="contentless",
                              base_model=str(_model_with_template(tiny_model_dir, "tiny-bad-2", CONTENTLESS)))
    assert mv.template_ok is None  # its check has not run yet: the service lets the run through
    approved_items(world.project, 6)
    snap = services.snapshot_create(project=world.project, user=admin, name="s", recipe={})
    run = services.training_run_create(project=world.project, user=admin, base_version=mv, snapshot=snap,
                                       hyperparams={"max_seq_length": 128, "batch_size": 2})
    assert run_job.apply(args=[run.job_id]).get() == "failed"
    job = Job.objects.get(pk=run.job_id)
    assert job.error.startswith("contentless cannot be trained: its chat template cannot be masked (")
    assert "Traceback" not in job.error
    mv.refresh_from_db()
    assert mv.template_ok is False  # the job's check is recorded on the version
