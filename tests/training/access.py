from tests.access_rules import EVERYONE, MANAGERS, STAFF_ONLY, Rule


def setup(world):
    from labelstudio_app.evaluation.models import ModelVersion
    from labelstudio_app.jobs.models import Job
    from labelstudio_app.training.models import DatasetSnapshot, TrainingRun
    from labelstudio_app.training.services import _write_immutable

    project = world.project
    path, sha, size = _write_immutable([{"messages": [{"role": "user", "content": "问"},
                                                      {"role": "assistant", "content": "答"}], "task_type": "t"}])
    snap = DatasetSnapshot.objects.create(project=project, name="快照 snap", path=path, sha256=sha, row_count=1,
                                          size_bytes=size)
    mv = ModelVersion.objects.create(project=project, name="base", base_model="/nonexistent")
    job = Job.objects.create(kind="training", queue="gpu", project=project, created_by=world.users["admin"])
    world.extra["snapshot"] = snap
    world.extra["training_run"] = TrainingRun.objects.create(project=project, job=job, base_version=mv,
                                                             snapshot=snap, hyperparams={})


def _p(w):
    return {"project_id": w.project.pk}


def _snap(w):
    return {"project_id": w.project.pk, "snapshot_id": w.snapshot.pk}


def _run(w):
    return {"project_id": w.project.pk, "run_id": w.training_run.pk}


RULES = {
    "training-list": Rule(allowed=MANAGERS, kwargs=_p),
    "training-create": Rule(allowed=STAFF_ONLY, kwargs=_p),
    "training-detail": Rule(allowed=MANAGERS, kwargs=_run),
    "training-cancel": Rule(allowed=STAFF_ONLY, kwargs=_run, method="post", data=lambda w: {}),
    "training-snapshot-list": Rule(allowed=MANAGERS, kwargs=_p),
    "training-snapshot-create": Rule(allowed=MANAGERS, kwargs=_p),
    "training-snapshot-detail": Rule(allowed=MANAGERS, kwargs=_snap),
    "training-snapshot-download": Rule(allowed=MANAGERS, kwargs=_snap),
    "api-training-hyperparams": Rule(allowed=EVERYONE, api=True),
    "api-snapshot-list": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-snapshot-detail": Rule(allowed=MANAGERS, kwargs=_snap, api=True),
    "api-snapshot-download": Rule(allowed=MANAGERS, kwargs=_snap, api=True),
    "api-training-run-list": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-training-run-detail": Rule(allowed=MANAGERS, kwargs=_run, api=True),
    "api-training-run-cancel": Rule(allowed=STAFF_ONLY, kwargs=_run, method="post", api=True, data=lambda w: {}),
}
