"""The Job row is the truth: claims are exclusive, dead workers are replaced, nothing ends stuck running."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from labelstudio_app.jobs import services
from labelstudio_app.jobs.models import Job
from tests.factories import JobFactory
from workers.context import JobContext
from workers.tasks import run_job

pytestmark = pytest.mark.django_db


def test_it_enqueues_only_after_commit(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "job_enqueue", lambda *, job_id: sent.append(job_id))
    with transaction.atomic():
        job = services.job_create(kind="selftest", params={"batches": 1})
        assert sent == []  # a worker must never see a job whose row is not committed yet
    # pytest-django wraps the test in a transaction; run the on_commit callbacks it captured.
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED


def test_it_sends_to_the_broker_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(services.celery_app, "send_task", lambda name, args, queue: sent.append((name, args, queue)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_create(kind="selftest")
    assert sent == []
    for cb in callbacks:
        cb()
    assert sent == [("workers.run_job", [job.pk], "default")]
    assert Job.objects.get(pk=job.pk).enqueued_at is not None


def test_it_lets_only_one_claim_win():
    job = JobFactory()
    assert services.job_claim(job_id=job.pk, worker="w1") is not None
    assert services.job_claim(job_id=job.pk, worker="w2") is None
    job.refresh_from_db()
    assert (job.state, job.worker, job.attempts) == ("running", "w1", 1)


def test_it_reclaims_a_job_whose_worker_died(settings):
    job = JobFactory()
    services.job_claim(job_id=job.pk, worker="dead")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1))
    taken = services.job_claim(job_id=job.pk, worker="alive")
    assert taken is not None and taken.attempts == 2
    with pytest.raises(services.JobLost):  # the dead worker, were it to wake up, can no longer write
        services.job_progress(job_id=job.pk, worker="dead", done=1)
    assert not services.job_finish(job_id=job.pk, worker="dead", state=Job.State.SUCCEEDED)
    assert services.job_finish(job_id=job.pk, worker="alive", state=Job.State.SUCCEEDED)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.worker == "alive"


def test_it_gives_up_on_a_job_that_kills_every_worker(settings):
    job = JobFactory(attempts=settings.JOB_MAX_ATTEMPTS, state="running",
                     heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.job_claim(job_id=job.pk, worker="w") is None
    job.refresh_from_db()
    assert job.state == "failed" and "Gave up" in job.error


def test_it_stops_a_cancelled_job_between_batches():
    job = JobFactory(params={"batches": 5, "delay": 0})
    claimed = services.job_claim(job_id=job.pk, worker="w")
    ctx = JobContext(job=claimed, worker="w")
    ctx.progress(done=1, total=5)
    services.job_cancel(job=job)
    with pytest.raises(services.JobCancelled):
        ctx.progress(done=2)


def test_it_cancels_a_queued_job_at_once():
    job = JobFactory()
    services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert services.job_claim(job_id=job.pk, worker="w") is None


def test_it_runs_a_job_to_success_through_the_task():
    job = JobFactory(params={"batches": 3, "delay": 0}, progress_total=3)
    assert run_job.run(job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.state, job.percent, job.result) == ("succeeded", 100, {"batches": 3})
    assert run_job.run(job.pk) == "not claimed"  # a redelivered message does nothing


def test_it_records_a_failure_instead_of_staying_running():
    job = JobFactory(params={"batches": 3, "delay": 0, "fail_at": 2})
    assert run_job.run(job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == "failed" and "asked to fail at batch 2" in job.error
    assert job.progress_done == 1 and job.finished_at is not None


def test_it_ends_cancelled_when_cancel_arrives_mid_run(monkeypatch):
    job = JobFactory(params={"batches": 3, "delay": 0})

    real = services.job_progress

    def cancel_after_first(**kw):
        real(**kw)
        if kw.get("done") == 1:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    monkeypatch.setattr(services, "job_progress", cancel_after_first)
    assert run_job.run(job.pk) == "cancelled"
    job.refresh_from_db()
    assert job.state == "cancelled" and job.progress_done == 2  # batch 2 finished, batch 3 never ran


def test_it_leaves_a_job_queued_when_the_broker_is_down(monkeypatch):
    def down(*a, **k):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(services.celery_app, "send_task", down)
    job = JobFactory()
    assert services.job_enqueue(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.state == "queued" and job.enqueued_at is None and "broker" in job.message


def test_it_finishes_a_cancelled_job_whose_worker_died_as_cancelled(settings):
    job = JobFactory()
    services.job_claim(job_id=job.pk, worker="dead")
    services.job_cancel(job=job)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1))
    services.jobs_recover()  # what the worker's sweeper runs every few seconds
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and job.finished_at is not None and job.message == ""


def test_it_leaves_a_cancelling_job_with_a_live_worker_running():
    job = JobFactory()
    services.job_claim(job_id=job.pk, worker="alive")
    services.job_cancel(job=job)
    services.jobs_recover()
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING and job.cancel_requested


def test_it_resends_a_queued_job_whose_message_was_lost_after_the_stale_timeout(settings):
    job = JobFactory()
    sent_at = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(enqueued_at=sent_at)
    assert services.jobs_recover() == 1
    job.refresh_from_db()
    assert job.enqueued_at > sent_at and job.state == Job.State.QUEUED
    assert services.jobs_recover() == 0  # sent again once, not on every sweep
