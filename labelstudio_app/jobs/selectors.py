"""Reads of jobs, always scoped to what the user may see."""
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job


def job_list_for_user(*, user, project=None) -> QuerySet[Job]:
    jobs = Job.objects.select_related("project", "created_by")
    if project is not None:
        jobs = jobs.filter(project=project)
    if user.is_staff:
        return jobs
    managed = Membership.objects.filter(user=user, role=Membership.Role.MANAGER).values("project_id")
    return jobs.filter(Q(created_by=user) | Q(project_id__in=managed))


def job_get_for_user(*, user, job_id: int) -> Job:
    return get_object_or_404(job_list_for_user(user=user), pk=job_id)


def job_cancel_requested(*, job_id: int) -> bool:
    """Whether a user asked the job to stop (read by the worker running it)."""
    return Job.objects.filter(pk=job_id, cancel_requested=True).exists()
