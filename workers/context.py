"""What a job handler gets: the job, progress reporting, cancellation between batches, a log."""
import logging
import threading
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from labelstudio_app.jobs import services
from labelstudio_app.jobs.models import Job

logger = logging.getLogger(__name__)


@dataclass
class JobContext:
    job: Job
    worker: str
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

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
            try:
                while not self._stop.wait(interval):
                    try:
                        services.job_heartbeat(job_id=self.job.pk, worker=self.worker)
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
