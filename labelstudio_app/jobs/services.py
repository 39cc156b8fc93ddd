"""Writes to the Job table. Every state change is a conditional UPDATE so two workers can never both win.

Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict (docs/rules.md);
JobLost and JobCancelled only tell the worker to stop, and never reach a user.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.translation import get_language

from labelstudio_app.core.queue import app as celery_app
from labelstudio_app.jobs.errors import error_public
from labelstudio_app.jobs.kinds import job_kind_get
from labelstudio_app.jobs.models import Job

logger = logging.getLogger(__name__)
State = Job.State
LOG_LIMIT = 200_000  # characters of log kept per job; older lines are dropped first


class JobLost(Exception):
    """This worker no longer owns the job (it was reclaimed or finished elsewhere)."""


class JobCancelled(Exception):
    """A user asked the job to stop; raised between batches."""


class JobFailed(Exception):
    """A failure the user can fix (a model that cannot be trained, ...): the job fails with this message alone,
    without a traceback."""


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)


def job_create(*, kind: str, user=None, project=None, params: dict | None = None, total: int = 0) -> Job:
    """Creates a queued job; it is sent to the broker only once the surrounding transaction commits."""
    job_kind = job_kind_get(kind)
    job = Job.objects.create(
        kind=kind, queue=job_kind.queue, created_by=user if user and user.is_authenticated else None,
        project=project, params=params or {}, progress_total=total, language=get_language() or "",
    )
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


def job_enqueue(*, job_id: int) -> bool:
    """Sends the job to its queue. A broker outage leaves it queued for the worker's sweeper to resend."""
    job = Job.objects.filter(pk=job_id).only("queue").first()
    if job is None:
        return False
    try:
        celery_app.send_task("workers.run_job", args=[job_id], queue=job.queue)
    except Exception as exc:  # kombu raises several unrelated types for "broker unreachable"
        logger.warning("could not enqueue job %s: %s", job_id, exc)
        Job.objects.filter(pk=job_id, state=State.QUEUED).update(
            message="Waiting for the task broker; the job will start when it is back."
        )
        return False
    Job.objects.filter(pk=job_id).update(enqueued_at=timezone.now())
    return True


def job_claim(*, job_id: int, worker: str) -> Job | None:
    """Takes the job if it is queued, or running with a stale heartbeat (its worker died). One caller wins."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state=State.RUNNING, heartbeat_at__lt=_stale_before())
    won = (
        Job.objects.filter(claimable, pk=job_id, cancel_requested=False)
        .update(state=State.RUNNING, worker=worker, heartbeat_at=now, started_at=Coalesce("started_at", Value(now)),
                attempts=F("attempts") + 1, message="")
    )
    if not won:
        return None
    job = Job.objects.get(pk=job_id)
    if job.attempts > settings.JOB_MAX_ATTEMPTS:
        job_finish(job_id=job_id, worker=worker, state=State.FAILED,
                   error=f"Gave up after {job.attempts - 1} attempts: the worker died each time (out of memory?).")
        return None
    return job


def _owned(job_id: int, worker: str):
    return Job.objects.filter(pk=job_id, state=State.RUNNING, worker=worker)


def job_heartbeat(*, job_id: int, worker: str) -> None:
    if not _owned(job_id, worker).update(heartbeat_at=timezone.now()):
        raise JobLost(job_id)


def job_progress(*, job_id: int, worker: str, done: int | None = None, total: int | None = None,
                 message: str | None = None) -> None:
    """Records progress and the heartbeat; raises JobCancelled when a user asked the job to stop."""
    fields: dict = {"heartbeat_at": timezone.now()}
    if done is not None:
        fields["progress_done"] = done
    if total is not None:
        fields["progress_total"] = total
    if message is not None:
        fields["message"] = message[:500]
    if not _owned(job_id, worker).update(**fields):
        raise JobLost(job_id)
    if Job.objects.filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled(job_id)


def job_log_append(*, job_id: int, text: str) -> None:
    Job.objects.filter(pk=job_id).update(log=Concat(F("log"), Value(text if text.endswith("\n") else text + "\n")))


def job_finish(*, job_id: int, worker: str, state: str, result: dict | None = None, error: str = "") -> bool:
    """Ends a running job owned by `worker`; returns False when someone else owns it now. The error is what
    the job's owner sees: tracebacks and server paths are taken out of it (jobs.errors)."""
    assert state in Job.FINISHED
    fields = {"state": state, "finished_at": timezone.now(), "error": error_public(error)[:20_000],
              "heartbeat_at": timezone.now()}
    if result is not None:
        fields["result"] = result
    if state == State.SUCCEEDED:
        fields["progress_done"] = F("progress_total")
        fields["message"] = ""
    return bool(_owned(job_id, worker).update(**fields))


def job_cancel(*, job: Job) -> None:
    """A queued job is cancelled at once; a running one stops at its next batch boundary."""
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, state=State.QUEUED).update(state=State.CANCELLED, finished_at=now,
                                                                cancel_requested=True):
        return
    Job.objects.filter(pk=job.pk, state=State.RUNNING).update(cancel_requested=True, message="Cancelling…")


def jobs_recover() -> int:
    """Resends jobs that a broker outage or a dead worker left behind; claims stay conditional, so a
    duplicate message is harmless. Returns how many were sent.

    A job still queued a stale timeout after it was sent may have lost its message (a Redis crash), so it
    is sent again; a job waiting behind a long one gets one harmless duplicate per stale timeout. A running
    job whose cancel was asked for and whose worker then died is finished as cancelled: no worker may claim
    it again, so nothing else would end it."""
    stale = _stale_before()
    Job.objects.filter(state=State.RUNNING, cancel_requested=True, heartbeat_at__lt=stale).update(
        state=State.CANCELLED, finished_at=timezone.now(), message="")
    lost = Job.objects.filter(
        Q(state=State.QUEUED, enqueued_at__isnull=True, created_at__lt=timezone.now() - timedelta(seconds=5))
        | Q(state=State.QUEUED, enqueued_at__lt=stale)
        | Q(state=State.RUNNING, heartbeat_at__lt=stale, enqueued_at__lt=stale)
    ).values_list("pk", flat=True)
    sent = 0
    for job_id in list(lost[:500]):
        sent += job_enqueue(job_id=job_id)
    return sent
