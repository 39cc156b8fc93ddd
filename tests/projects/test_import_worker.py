"""Imports in a real Celery worker process: upload via the API -> job -> items -> 100%; and a SIGKILL
mid-import leaves, after a restart, exactly the file's items once."""
import json

import pytest

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_enqueue
from labelstudio_app.projects.models import Item
from tests.conftest import wait_for
from tests.factories import ProjectFactory, UserFactory
from tests.projects.factories import upload

pytestmark = pytest.mark.worker


def _jsonl(n):
    return "".join(json.dumps({"id": f"q{i}", "text": f"第 {i} 个问题：怎么部署？", "task_type": "deployment / edge"},
                              ensure_ascii=False) + "\n" for i in range(n))


def _start(api_as, n, name="big.jsonl"):
    project = ProjectFactory()
    manager = UserFactory(username=f"mgr{n}")
    Membership.objects.create(user=manager, project=project, role="manager")
    r = api_as(manager).post(f"/api/projects/{project.pk}/imports/", {"file": upload(name, _jsonl(n))},
                             format="multipart")
    assert r.status_code == 202, r.content
    job_enqueue(job_id=r.json()["id"])  # a transactional test: no outer commit to trigger on_commit
    return project, r.json()["id"]


def test_it_imports_an_uploaded_file_in_a_worker_process(worker_process, api_as):
    worker_process()
    project, job_id = _start(api_as, 1200)
    job = wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_finished and j, timeout=60, what="the import")
    assert job.state == "succeeded", job.error
    assert job.percent == 100 and job.progress_done == job.progress_total == 1200
    assert Item.objects.filter(project=project, source_job_id=job_id).count() == 1200


def test_it_imports_exactly_once_after_the_worker_is_killed_mid_import(worker_process, api_as):
    slow = {"FLYWHEEL_IMPORT_BATCH_SIZE": "500", "FLYWHEEL_IMPORT_BATCH_PAUSE_MS": "150"}
    first = worker_process(extra_env=slow)
    project, job_id = _start(api_as, 20_000)
    # progress moves while the import transaction is still open (it is reported over a second connection)
    wait_for(lambda: Job.objects.get(pk=job_id).progress_done >= 2000, timeout=60, what="import progress")
    assert Item.objects.filter(project=project).count() == 0  # nothing visible before the commit
    first.kill()
    worker_process(extra_env={"FLYWHEEL_IMPORT_BATCH_SIZE": "5000"})
    job = wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_finished and j, timeout=120, what="the import")
    assert job.state == "succeeded", job.error
    assert job.attempts == 2
    ids = list(Item.objects.filter(project=project).values_list("external_id", flat=True))
    assert len(ids) == 20_000 and len(set(ids)) == 20_000
