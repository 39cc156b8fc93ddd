from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from labelstudio_app.core.http import HtmxHttpRequest, staff_required
from labelstudio_app.jobs import selectors, services


@login_required
@require_GET
def job_list(request: HtmxHttpRequest) -> HttpResponse:
    jobs = selectors.job_list_for_user(user=request.user)[:100]
    return render(request, "jobs/list.html", {"jobs": jobs})


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
