"""htmx pages of the training area: snapshots (managers) and training runs (admins start them). Thin."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from labelstudio_app.core.http import HtmxHttpRequest, form_add_errors
from labelstudio_app.jobs.services import job_cancel
from labelstudio_app.projects.selectors import project_get_for_admin, project_get_for_manager, project_roles
from labelstudio_app.training import selectors, services
from labelstudio_app.training.charts import run_charts
from labelstudio_app.training.forms import SnapshotForm, TrainingForm
from labelstudio_app.training.hyperparams import hyperparams_readable


def _ctx(request, project, **extra) -> dict:
    return {"project": project, "roles": project_roles(user=request.user, project_id=project.pk), **extra}


@login_required
@require_GET
def snapshot_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    snapshots = list(selectors.snapshot_list_for_project(user=request.user, project_id=project.pk)[:200])
    return render(request, "training/snapshots.html", _ctx(request, project, snapshots=snapshots))


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_create(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    versions = selectors.model_version_list_trainable(project=project)
    form = SnapshotForm(request.POST or None, model_versions=versions)
    if request.method == "POST" and form.is_valid():
        try:
            snapshot = services.snapshot_create(project=project, user=request.user, name=form.cleaned_data["name"],
                                                recipe=form.cleaned_data["recipe"],
                                                tokenizer_version=form.cleaned_data.get("tokenizer_version"))
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect("training-snapshot-detail", project_id=project.pk, snapshot_id=snapshot.pk)
    return render(request, "training/snapshot_new.html", _ctx(request, project, form=form),
                  status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def snapshot_detail(request: HtmxHttpRequest, project_id: int, snapshot_id: int) -> HttpResponse:
    snapshot = selectors.snapshot_get(user=request.user, project_id=project_id, snapshot_id=snapshot_id)
    runs = snapshot.training_runs.select_related("job", "base_version").order_by("-id")[:50]
    return render(request, "training/snapshot_detail.html",
                  _ctx(request, snapshot.project, snapshot=snapshot, runs=runs))


@login_required
@require_GET
def snapshot_download(request: HtmxHttpRequest, project_id: int, snapshot_id: int) -> FileResponse:
    snapshot = selectors.snapshot_get(user=request.user, project_id=project_id, snapshot_id=snapshot_id)
    path = services.snapshot_file(snapshot)
    if not path.exists():
        raise Http404("The snapshot file is missing.")
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=f"snapshot-{snapshot.pk}-"
                            f"{snapshot.format}-{snapshot.sha256[:12]}.jsonl", content_type="application/jsonl")
    response["X-Content-SHA256"] = snapshot.sha256
    return response


@login_required
@require_GET
def training_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    runs = list(selectors.training_run_list_for_project(user=request.user, project_id=project.pk)[:200])
    return render(request, "training/list.html", _ctx(request, project, runs=runs))


@login_required
@require_http_methods(["GET", "POST"])
def training_create(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_admin(user=request.user, project_id=project_id)
    versions = selectors.model_version_list_trainable(project=project)
    chosen = request.GET.get("base_version", "")
    base = versions.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    # A change of base re-renders the form with that base's defaults; the chosen snapshot stays chosen.
    form = TrainingForm(request.POST or None, model_versions=versions, base_version=base,
                        snapshots=selectors.snapshot_list_for_project(user=request.user, project_id=project.pk),
                        initial={"snapshot": request.GET["snapshot"]} if request.GET.get("snapshot") else None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.training_run_create(
                project=project, user=request.user, base_version=form.cleaned_data["base_version"],
                snapshot=form.cleaned_data["snapshot"], hyperparams=form.cleaned_data["hyperparams"],
                save_merged=form.cleaned_data["save_merged"],
                old_data_fraction=form.cleaned_data.get("old_data_fraction") or 0)
        except ValidationError as exc:
            form_add_errors(form, exc, fields={"old_data_fraction": "old_data_fraction",
                                               "base_version": "base_version", "snapshot": "snapshot"})
        else:
            return redirect("training-detail", project_id=project.pk, run_id=run.pk)
    return render(request, "training/new.html", _ctx(request, project, form=form),
                  status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def training_detail(request: HtmxHttpRequest, project_id: int, run_id: int) -> HttpResponse:
    run = selectors.training_run_get(user=request.user, project_id=project_id, run_id=run_id)
    context = _ctx(request, run.project, run=run, job=run.job,
                   charts=run_charts(run.loss_history, run.eval_loss_history),
                   hyperparams=hyperparams_readable(run.hyperparams),
                   heldout=selectors.training_run_heldout_report(run=run),
                   truncation=selectors.training_run_truncation(run=run))
    if request.htmx:
        response = render(request, "training/detail.html#live", context)
        return HttpResponseStopPolling(response.content) if run.job.is_finished else response
    return render(request, "training/detail.html", context)


@login_required
@require_POST
def training_cancel(request: HtmxHttpRequest, project_id: int, run_id: int) -> HttpResponse:
    project_get_for_admin(user=request.user, project_id=project_id)
    run = selectors.training_run_get(user=request.user, project_id=project_id, run_id=run_id)
    job_cancel(job=run.job)
    return redirect("training-detail", project_id=project_id, run_id=run.pk)
