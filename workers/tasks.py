"""Celery entry points only: claim the job, run its handler, record the result."""
import logging
import threading
import time
import traceback

from celery import signals
from django.conf import settings
from django.db import close_old_connections
from django.utils import translation
from django.utils.module_loading import import_string

from labelstudio_app.core.queue import app
from labelstudio_app.jobs import services
from labelstudio_app.jobs.kinds import JOB_FOLLOWUPS, job_kind_get
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.services import import_uploads_sweep
from workers.context import JobContext

logger = logging.getLogger(__name__)


@app.task(name="workers.run_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job(self, job_id: int) -> str:
    # Celery's Django fixup closes stale database connections around every task.
    worker = f"{self.request.hostname or 'local'}:{threading.get_ident()}"
    job = services.job_claim(job_id=job_id, worker=worker)
    if job is None:
        return "not claimed"  # finished, cancelled, or running elsewhere with a live heartbeat
    ctx = JobContext(job=job, worker=worker)
    ctx.start_heartbeat(max(1.0, settings.JOB_STALE_SECONDS / 4))
    try:
        handler = import_string(job_kind_get(job.kind).handler)
        with translation.override(job.language or settings.LANGUAGE_CODE):  # messages in the starter's language
            result = handler(ctx) or {}
    except services.JobCancelled:
        services.job_finish(job_id=job_id, worker=worker, state=Job.State.CANCELLED)
        return "cancelled"
    except services.JobFailed as exc:
        services.job_finish(job_id=job_id, worker=worker, state=Job.State.FAILED, error=str(exc))
        return "failed"
    except services.JobLost:
        logger.warning("job %s was taken over by another worker; stopping", job_id)
        return "lost"
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        # The owner sees the message; the traceback goes to the job's log, which only staff see.
        services.job_log_append(job_id=job_id, text=traceback.format_exc())
        services.job_finish(job_id=job_id, worker=worker, state=Job.State.FAILED, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    finally:
        ctx.stop_heartbeat()
    if services.job_finish(job_id=job_id, worker=worker, state=Job.State.SUCCEEDED, result=result):
        _run_followup(job)
    return "succeeded"


def _run_followup(job: Job) -> None:
    """Runs the job's `then` step (e.g. open a review round once its generation is done)."""
    then = job.params.get("then")
    if not then:
        return
    try:
        import_string(JOB_FOLLOWUPS[then["name"]])(job=job, **then.get("kwargs", {}))
    except Exception as exc:
        logger.exception("follow-up of job %s failed", job.pk)
        services.job_log_append(job_id=job.pk, text=f"follow-up {then.get('name')} failed: {exc}")


UPLOAD_SWEEP_SECONDS = 600  # abandoned uploads live hours; looking at them every 10 minutes is plenty


def _sweep_forever(stop: threading.Event) -> None:
    last_upload_sweep = 0.0
    while not stop.wait(settings.JOB_SWEEP_SECONDS):
        try:
            sent = services.jobs_recover()
            if sent:
                logger.info("sweeper resent %s job(s)", sent)
            if time.monotonic() - last_upload_sweep >= UPLOAD_SWEEP_SECONDS:
                last_upload_sweep = time.monotonic()
                removed = import_uploads_sweep()
                if removed:
                    logger.info("sweeper deleted %s upload(s) never imported", removed)
        except Exception:
            logger.exception("sweeper failed")
        finally:
            close_old_connections()


_sweeper_stop = threading.Event()


@signals.worker_ready.connect
def start_sweeper(**_kwargs) -> None:
    """Picks up jobs a dead worker or a broker outage left behind, now and every few seconds."""
    try:
        services.jobs_recover()
    finally:
        close_old_connections()
    threading.Thread(target=_sweep_forever, args=(_sweeper_stop,), name="job-sweeper", daemon=True).start()


@signals.worker_shutdown.connect
def stop_sweeper(**_kwargs) -> None:
    _sweeper_stop.set()
