"""What a job handler gets: the job, progress reporting, cancellation between batches, a log."""
import logging
import threading
import time
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from labelstudio_app.jobs import selectors, services
from labelstudio_app.jobs.models import Job

logger = logging.getLogger(__name__)
# How often the heartbeat thread looks at the job's cancel flag, so a handler stuck waiting (retries,
# back-off) can stop within about this long instead of at its next batch boundary.
CANCEL_POLL_SECONDS = 0.5


@dataclass
class JobContext:
    job: Job
    worker: str
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    # Set once a user asked the job to stop; long waits inside a handler watch it.
    cancel_seen: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def params(self) -> dict:
        return self.job.params

    def progress(self, done: int | None = None, total: int | None = None, message: str | None = None) -> None:
        """Call between batches: records progress, bumps the heartbeat, raises JobCancelled when asked to stop."""
        services.job_progress(job_id=self.job.pk, worker=self.worker, done=done, total=total, message=message)

    def log(self, text: str) -> None:
        logger.info("job %s: %s", self.job.pk, text)
        services.job_log_append(job_id=self.job.pk, text=text)

    def start_heartbeat(self, interval: float) -> None:
        """Keeps the heartbeat fresh while a handler is busy in one long call (loading a model, say),
        so only a dead worker ever looks stale."""

        def beat():
            last_beat = time.monotonic()
            try:
                while not self._stop.wait(min(interval, CANCEL_POLL_SECONDS)):
                    try:
                        if selectors.job_cancel_requested(job_id=self.job.pk):
                            self.cancel_seen.set()
                        if time.monotonic() - last_beat >= interval:
                            services.job_heartbeat(job_id=self.job.pk, worker=self.worker)
                            last_beat = time.monotonic()
                    except services.JobLost:
                        return
                    except Exception:  # a database blip must not kill the job; the next beat retries
                        logger.exception("heartbeat failed for job %s", self.job.pk)
                        close_old_connections()
            finally:
                connection.close()

        threading.Thread(target=beat, name=f"heartbeat-{self.job.pk}", daemon=True).start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
