"""A generation job in a real Celery worker process, on the tiny model, on the CPU."""
import pytest
from django.db.models import Count

from labelstudio_app.evaluation.models import Candidate
from labelstudio_app.evaluation.services import generation_job_create, model_version_create
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from tests.conftest import wait_for
from tests.evaluation.fixtures import tiny_model_root  # noqa: F401
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.worker


def _job(pk):
    return Job.objects.get(pk=pk)


def _setup(tiny_model_root, n_items):  # noqa: F811
    project = ProjectFactory()
    user = UserFactory(is_staff=True)
    mv = model_version_create(project=project, user=user, name="tiny", base_model=str(tiny_model_root))
    items = [ItemFactory(project=project, text=f"怎么把 mmpose 部署到 TX2？#{i}") for i in range(n_items)]
    return project, user, mv, items


def _run(job):
    job_services.job_enqueue(job_id=job.pk)  # a transactional test has no commit hook to send it
    return wait_for(lambda: _job(job.pk).is_finished and _job(job.pk), timeout=120, what="the job to finish")


def test_it_generates_candidates_end_to_end_and_a_second_run_adds_nothing(worker_process, tiny_model_root):  # noqa: F811
    project, user, mv, items = _setup(tiny_model_root, 3)
    worker_process()
    params = {"max_new_tokens": 8, "temperature": 0.9, "seed": 7}
    job = generation_job_create(project=project, user=user, model_versions=[mv], items=items, n_samples=2,
                                params=params)
    done = _run(job)
    assert done.state == "succeeded", done.error
    assert done.percent == 100 and done.progress_done == done.progress_total == 6
    cands = list(Candidate.objects.filter(model_version=mv).order_by("item_id", "sample_index"))
    assert [(c.item_id, c.sample_index) for c in cands] == [(i.pk, s) for i in items for s in (0, 1)]
    for c in cands:
        assert 1 <= c.completion_tokens <= 8 and c.prompt_tokens > 5 and c.latency_ms > 0
        assert c.job_id == job.pk and c.params_hash == job.params["params_hash"]
    assert len({c.params["seed"] for c in cands}) == 6  # per-sample seeds
    assert done.result["generated"] == 6

    again = _run(generation_job_create(project=project, user=user, model_versions=[mv], items=items, n_samples=2,
                                       params=params))
    assert again.state == "succeeded" and again.result["generated"] == 0 and again.result["already_there"] == 6
    assert Candidate.objects.filter(model_version=mv).count() == 6


def test_it_completes_after_the_worker_is_killed_mid_job(worker_process, tiny_model_root):  # noqa: F811
    project, user, mv, items = _setup(tiny_model_root, 40)
    first = worker_process()
    job = generation_job_create(project=project, user=user, model_versions=[mv], items=items, n_samples=1,
                                params={"max_new_tokens": 24, "temperature": 0.8, "seed": 1}, batch_size=2)
    # write every batch, as a slow model would: the tiny model is fast enough to finish inside one 0.5 s checkpoint
    Job.objects.filter(pk=job.pk).update(params={**job.params, "checkpoint_seconds": 0})
    job_services.job_enqueue(job_id=job.pk)
    wait_for(lambda: _job(job.pk).progress_done >= 6, timeout=90, what="the job to make progress")
    first.kill()
    partial = Candidate.objects.filter(model_version=mv).count()
    assert 6 <= partial < 40 and _job(job.pk).state == "running"
    worker_process()  # its sweeper resends the job once the heartbeat is stale
    done = wait_for(lambda: _job(job.pk).is_finished and _job(job.pk), timeout=120, what="the job to finish")
    assert done.state == "succeeded", (done.error, done.log)
    assert done.attempts == 2 and done.percent == 100
    keys = Candidate.objects.filter(model_version=mv).values("item_id", "sample_index").annotate(n=Count("id"))
    assert sorted((k["item_id"], k["n"]) for k in keys) == sorted((i.pk, 1) for i in items)
    assert done.result["already_there"] >= partial

