from tests.access_rules import EVERYONE, MANAGERS, STAFF_ONLY, Rule
from tests.factories import JobFactory


def setup(world):
    world.extra["job"] = JobFactory(project=world.project, created_by=world.users["manager"], kind="import")


def _job(w):
    return {"job_id": w.job.pk}


RULES = {
    "job-list": Rule(allowed=EVERYONE),  # the list itself is scoped; see test_jobs_views
    "job-detail": Rule(allowed=MANAGERS, kwargs=_job),
    "job-cancel": Rule(allowed=MANAGERS, kwargs=_job, method="post", data=lambda w: {}),
    "job-selftest": Rule(allowed=STAFF_ONLY, method="post", data=lambda w: {}),
    "api-job-list": Rule(allowed=EVERYONE, api=True),
    "api-job-detail": Rule(allowed=MANAGERS, kwargs=_job, api=True),
    "api-job-cancel": Rule(allowed=MANAGERS, kwargs=_job, method="post", api=True, data=lambda w: {}),
}
