from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from labelstudio_app.accounts import roles as R
from labelstudio_app.core.http import HtmxHttpRequest, staff_required
from labelstudio_app.jobs import selectors, services


@login_required
@require_GET
def job_list(request: HtmxHttpRequest) -> HttpResponse:
    jobs = list(selectors.job_list_for_user(user=request.user)[:100])
    # Empty: what starts a job, as a button only where the user may press it (the imports of projects they manage).
    starts = [] if jobs else [{"project": name, "url": reverse("import-page", kwargs={"project_id": pk})}
                              for pk, name in selectors.job_start_projects_for_user(user=request.user)]
    return render(request, "jobs/list.html", {"jobs": jobs, "starts": starts,
                                              "may_start": bool(starts) or R.is_admin(request.user)})


@login_required
@require_GET
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    if request.htmx:
        response = render(request, "jobs/_row.html", {"job": job})
        # 286 tells htmx to stop polling: the row is final.
        return HttpResponseStopPolling(response.content) if job.is_finished else response
    return render(request, "jobs/detail.html", {"job": job})


@login_required
@require_POST
def job_cancel(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_cancel(user=request.user, job_id=job_id)
    services.job_cancel(job=job)
    job.refresh_from_db()
    if request.htmx:
        return render(request, "jobs/_row.html", {"job": job})
    return redirect("job-detail", job_id=job.pk)


@staff_required
@require_POST
def job_selftest(request: HtmxHttpRequest) -> HttpResponse:
    job = services.job_create(kind="selftest", user=request.user, params={"batches": 20, "delay": 0.25}, total=20)
    return redirect("job-detail", job_id=job.pk)
