"""Label-audit pages: runs of a project, a new run, a run's table + scaling chart, compare, export."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from labelstudio_app.audit import exports, selectors, services
from labelstudio_app.audit.charts import scaling_chart
from labelstudio_app.audit.forms import AuditRunForm
from labelstudio_app.core.errors import Conflict
from labelstudio_app.core.http import HtmxHttpRequest, form_add_errors
from labelstudio_app.projects.selectors import project_get_for_manager, project_roles


def _list_context(request, project, form=None) -> dict:
    runs = selectors.audit_run_list_for_project(user=request.user, project_id=project.pk)
    return {"project": project, "roles": project_roles(user=request.user, project_id=project.pk),
            "runs": runs, "form": form or AuditRunForm(project=project)}


@login_required
@require_GET
def audit_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    return render(request, "audit/list.html", _list_context(request, project))


@login_required
@require_POST
def audit_create(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    form = AuditRunForm(request.POST, project=project)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run = services.audit_run_create(
                project=project, user=request.user, question=data["question"], model_versions=data["model_versions"],
                positive_class=data["positive_class"], template=data["template"], keywords=data["keywords"],
                regex=data["regex"], temperature=data["temperature"], max_new_tokens=data["max_new_tokens"],
                metric=data["metric"], tolerance=data["tolerance"], name=data["name"], scope=data["scope"],
                snapshot=data["snapshot"], scoring=data["scoring"])
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = run_url(run)
                return response
            return redirect(run_url(run))
    template = "audit/list.html#new-run" if request.htmx else "audit/list.html"
    return render(request, template, _list_context(request, project, form), status=422 if request.htmx else 200)


def run_url(run) -> str:
    return reverse("audit-detail", kwargs={"project_id": run.project_id, "run_id": run.pk})


@login_required
@require_GET
def audit_detail(request: HtmxHttpRequest, project_id: int, run_id: int) -> HttpResponse:
    run = selectors.audit_run_get(user=request.user, run_id=run_id, project_id=project_id)
    report = selectors.audit_report(run=run)
    chart = scaling_chart([{"name": p["name"], "parameters": p["parameters"], "value": p["value"]}
                           for p in report["scaling"]["points"]], metric=run.get_metric_display())
    ids = {m["id"] for m in report["models"]}
    pairs = [(m, next(p for p in report["models"] if p["id"] == m["parent_id"]))
             for m in report["models"] if m["parent_id"] in ids]
    context = {"project": run.project, "run": run, "report": report, "chart": chart, "parent_pairs": pairs,
               "roles": project_roles(user=request.user, project_id=run.project_id)}
    if request.htmx:
        response = render(request, "audit/detail.html#results", context)
        # 286 ends the section's polling once the job is over.
        return HttpResponseStopPolling(response.content) if not run.job or run.job.is_finished else response
    return render(request, "audit/detail.html", context)


@login_required
@require_POST
def audit_relabel(request: HtmxHttpRequest, project_id: int, run_id: int) -> HttpResponse:
    run = selectors.audit_run_get(user=request.user, run_id=run_id, project_id=project_id)
    try:
        sent = services.audit_disagreements_send(run=run, user=request.user)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect(run_url(run))
    if request.htmx:
        return render(request, "audit/detail.html#relabel-done", {"sent": sent["items"], "run": run})
    messages.success(request, _("%(n)s item(s) sent to the relabel / QA queue.") % {"n": sent["items"]})
    return redirect(run_url(run))


@login_required
@require_GET
def audit_export(request: HtmxHttpRequest, project_id: int, run_id: int, fmt: str) -> HttpResponse:
    run = selectors.audit_run_get(user=request.user, run_id=run_id, project_id=project_id)
    if fmt == "csv":
        response = HttpResponse(exports.run_csv(run), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = HttpResponse(json.dumps(exports.run_json(run), ensure_ascii=False, indent=1),
                                content_type="application/json; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="audit-{run.pk}.{fmt}"'
    return response


def _pair(value: str | None) -> tuple[int, int] | None:
    try:
        run_id, mv_id = (int(x) for x in (value or "").split(":"))
    except ValueError:
        return None
    return run_id, mv_id


@login_required
@require_GET
def audit_compare(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Two (run, model version) pairs side by side: a fine-tuned version and its parent, or one version in two runs."""
    project = project_get_for_manager(user=request.user, project_id=project_id)
    runs = list(selectors.audit_run_list_for_project(user=request.user, project_id=project.pk)[:50])
    choices = [(f"{r.pk}:{mv.pk}", f"#{r.pk} {r.name} · {mv.name}") for r in runs for mv in r.model_versions.all()]
    left, right = _pair(request.GET.get("left")), _pair(request.GET.get("right"))
    comparison = None
    if left and right:
        comparison = selectors.audit_compare(user=request.user, left=left, right=right)
        if any(comparison[side]["run"].project_id != project.pk for side in ("left", "right")):
            raise Http404
    return render(request, "audit/compare.html", {
        "project": project, "roles": project_roles(user=request.user, project_id=project.pk), "choices": choices,
        "comparison": comparison, "left": request.GET.get("left", ""), "right": request.GET.get("right", "")})
