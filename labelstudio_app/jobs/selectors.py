"""Reads of jobs, always scoped to what the user may see.

Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
from pathlib import PurePath

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.kinds import job_kind_get
from labelstudio_app.jobs.models import Job


def job_list_for_user(*, user, project=None) -> QuerySet[Job]:
    jobs = Job.objects.select_related("project", "created_by")
    if project is not None:
        jobs = jobs.filter(project=project)
    if R.is_admin(user):
        return jobs
    managed = Membership.objects.filter(user=user, role__in=R.MANAGERS).values("project_id")
    return jobs.filter(Q(created_by=user) | Q(project_id__in=managed))


def job_start_projects_for_user(*, user, limit: int = 5) -> list[tuple[int, str]]:
    """(id, name) of the projects where the user starts jobs (they manage them), by name: the empty jobs list
    offers their imports. A few are enough to show the way."""
    return list(Membership.objects.filter(user=user, role__in=R.MANAGERS)
                .order_by("project__name").values_list("project_id", "project__name")[:limit])


def job_get_for_user(*, user, job_id: int) -> Job:
    return get_object_or_404(job_list_for_user(user=user), pk=job_id)


def job_params_public(*, params):
    """The job's parameters as users may see them: a server path (an upload's location) is shown as its
    file name only, wherever it sits in the parameters."""
    if isinstance(params, dict):
        return {key: job_params_public(params=value) for key, value in params.items()}
    if isinstance(params, list):
        return [job_params_public(params=value) for value in params]
    if isinstance(params, str) and params.startswith("/"):
        return PurePath(params).name
    return params


def job_cancel_requested(*, job_id: int) -> bool:
    """Whether a user asked the job to stop (read by the worker running it)."""
    return Job.objects.filter(pk=job_id, cancel_requested=True).exists()


def job_get_for_cancel(*, user, job_id: int) -> Job:
    """A job `user` may stop: one they may see (404 otherwise) whose kind they may run; a staff-only kind
    (training, the self-test, the tiny model) is refused to everyone but staff."""
    job = job_get_for_user(user=user, job_id=job_id)
    if job_kind_get(job.kind).staff_only and not user.is_staff:
        raise PermissionDenied(_("Only an admin may cancel this kind of job."))
    return job
