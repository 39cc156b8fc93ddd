"""`manage.py flywheel_demo_wait`: waits for the demo model job (queued by `flywheel_demo`), printing its
progress; exits 0 once it has succeeded, 1 when it failed, was cancelled or the timeout passed."""
import time

from django.core.management.base import BaseCommand, CommandError

from labelstudio_app.demo import seed as demo
from labelstudio_app.jobs.models import Job


class Command(BaseCommand):
    help = "Wait until the demo model is prepared and registered, printing the job's progress."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=1800, help="Seconds to wait at most.")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, timeout: float, interval: float, **options):
        project = demo.demo_project_get()
        job = demo.demo_model_job(project=project) if project else None
        if job is None:
            raise CommandError("no demo model job: run `manage.py flywheel_demo` first")
        deadline, last = time.monotonic() + timeout, None
        while True:
            job.refresh_from_db()
            line = f"demo model job #{job.pk}: {job.state} {job.progress_done}/{job.progress_total} {job.message}"
            if line != last:
                self.stdout.write(line.rstrip())
                last = line
            if job.state == Job.State.SUCCEEDED:
                return
            if job.state in Job.FINISHED:
                raise CommandError(f"the demo model job #{job.pk} {job.state}: {job.error.splitlines()[0] if job.error else ''}")
            if time.monotonic() > deadline:
                raise CommandError(f"the demo model job #{job.pk} is still {job.state} after {timeout:.0f} s")
            time.sleep(interval)
