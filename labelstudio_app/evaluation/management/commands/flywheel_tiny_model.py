"""Builds the offline tiny model and registers it as a model version of a project.

    python manage.py flywheel_tiny_model --project 1 [--pretrain-steps 300] [--wait]

The build runs in a worker (a `tiny_model` job on the gpu queue): the web side never imports torch. With
--inline it runs the same builder in a child process (`python -m workers.tiny_model`) and registers the
result here, for a machine with no worker running.
"""
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.evaluation.services import model_version_create
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_create
from labelstudio_app.projects.models import Project

TINY_NAME = "tiny-chat (demo)"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, required=True)
        parser.add_argument("--pretrain-steps", type=int, default=300)
        parser.add_argument("--inline", action="store_true", help="build in a child process, no worker needed")
        parser.add_argument("--wait", action="store_true", help="wait for the worker's job to finish")

    def handle(self, *args, project, pretrain_steps, inline, wait, **options):
        proj = Project.objects.filter(pk=project).first()
        if proj is None:
            raise CommandError(f"no project #{project}")
        existing = ModelVersion.objects.filter(project=proj, name=TINY_NAME).first()
        if existing:
            self.stdout.write(f"{TINY_NAME} already registered as model version #{existing.pk}")
            return
        if inline:
            out = Path(settings.ARTIFACTS_DIR) / "models" / "tiny-chat"
            subprocess.run([sys.executable, "-m", "workers.tiny_model", str(out), "--pretrain-steps",
                            str(pretrain_steps)], check=True)
            mv = model_version_create(project=proj, user=None, name=TINY_NAME, base_model=str(out),
                                      metadata={"demo": True, "pretrain_steps": pretrain_steps})
            self.stdout.write(f"registered {TINY_NAME} as model version #{mv.pk} ({mv.parameter_count} parameters)")
            return
        job = job_create(kind="tiny_model", project=proj, params={"pretrain_steps": pretrain_steps}, total=2)
        self.stdout.write(f"tiny_model job #{job.pk} queued on the gpu queue")
        while wait:
            time.sleep(1)
            job.refresh_from_db()
            if job.is_finished:
                self.stdout.write(f"job #{job.pk} {job.state}: {job.result or job.error}")
                if job.state != Job.State.SUCCEEDED:
                    raise CommandError(job.error or job.state)
                return
