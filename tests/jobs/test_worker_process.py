"""A real Celery worker process, the real broker (Redis in CI), the real database."""
import pytest

from labelstudio_app.jobs import services
from labelstudio_app.jobs.models import Job
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def _job(pk):
    return Job.objects.get(pk=pk)


def test_it_runs_a_job_end_to_end_in_a_worker_process(worker_process):
    worker_process()
    job = services.job_create(kind="selftest", params={"batches": 5, "delay": 0.05}, total=5)
    services.job_enqueue(job_id=job.pk)  # no surrounding transaction in a transactional test: send now
    done = wait_for(lambda: _job(job.pk).is_finished and _job(job.pk), timeout=60, what="the job to finish")
    assert done.state == "succeeded" and done.percent == 100 and done.result == {"batches": 5}


def test_it_finishes_once_after_the_worker_is_killed_mid_job(worker_process):
    first = worker_process()
    job = services.job_create(kind="selftest", params={"batches": 40, "delay": 0.1}, total=40)
    services.job_enqueue(job_id=job.pk)
    wait_for(lambda: _job(job.pk).progress_done >= 3, timeout=60, what="the job to make progress")
    first.kill()
    assert _job(job.pk).state == "running"  # the row still says running: the heartbeat will go stale
    worker_process()  # a new worker's sweeper finds the stale job and resends it
    done = wait_for(lambda: _job(job.pk).is_finished and _job(job.pk), timeout=90, what="the job to finish")
    assert done.state == "succeeded" and done.attempts == 2 and done.progress_done == 40
