"""Helpers for the projects tests: sample files, uploads, running a job in this process."""
import subprocess
import sys
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from labelstudio_app.jobs.models import Job
from labelstudio_app.projects import services

ROOT = Path(__file__).resolve().parents[2]
# The team's sample generator sits in ../shared beside the checkout; the demo ships a copy of it.
SAMPLES_SCRIPT = ROOT.parent / "shared" / "data" / "make_samples.py"
VENDORED_SAMPLES = ROOT / "labelstudio_app" / "demo" / "samples.py"


def write_samples(folder: Path, *, messages: int = 3000, records: int = 500, seed: int = 7) -> Path:
    script = SAMPLES_SCRIPT if SAMPLES_SCRIPT.exists() else VENDORED_SAMPLES
    subprocess.run([sys.executable, str(script), str(folder), "--messages", str(messages), "--records",
                    str(records), "--seed", str(seed)], check=True)
    return folder


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8") if isinstance(content, str) else content)


def run_inline(job: Job) -> Job:
    """Runs a queued job in this process through the real task function (claim, handler, finish)."""
    from workers.tasks import run_job

    run_job(job.pk)
    job.refresh_from_db()
    return job


def import_file(project, user, path: Path, *, fmt: str = "auto", options=None) -> Job:
    job = services.import_create(project=project, user=user, upload=upload(path.name, path.read_bytes()),
                                 fmt=fmt, options=options)
    return run_inline(job)


def import_text(project, user, name: str, content, *, fmt: str = "auto", options=None) -> Job:
    job = services.import_create(project=project, user=user, upload=upload(name, content), fmt=fmt, options=options)
    return run_inline(job)
