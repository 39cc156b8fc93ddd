"""htmx pages: the model registry (lineage tree), the promotion gate, generation jobs, and an item's candidates.
Managers only."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from labelstudio_app.core.errors import Conflict
from labelstudio_app.core.http import HtmxHttpRequest, form_add_errors
from labelstudio_app.evaluation import selectors, services
from labelstudio_app.evaluation.forms import GenerationForm, ModelVersionForm, ServingForceForm, ServingReasonForm
from labelstudio_app.evaluation.gate import gate_verdict
from labelstudio_app.projects.selectors import project_get_for_manager, project_roles


def _go(request, to: str, **kwargs) -> HttpResponse:
    """After a successful POST: a plain redirect, or for htmx an HX-Redirect header (a 302 would be followed
    by htmx itself and the whole next page swapped into the form's target)."""
    if request.htmx:
        return HttpResponseClientRedirect(resolve_url(to, **kwargs))
    return redirect(to, **kwargs)


def _form_error_status(request) -> int:
    """422 for a plain form post; 200 for htmx, which does not swap 4xx answers (the errors would not show)."""
    return 200 if request.htmx else 422


def _page(request, project, template, context):
    return render(request, template, {"project": project,
                                      "roles": project_roles(user=request.user, project_id=project.pk), **context})


@login_required
@require_GET
def model_version_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    return _models_page(request, project, ModelVersionForm(project=project, user=request.user))


def _models_page(request, project, form, status=200, fragment=False):
    versions = list(selectors.model_version_list_for_user(user=request.user, project=project))
    response = _page(request, project, "evaluation/models.html" + ("#model-form" if fragment else ""),
                     {"tree": selectors.model_version_tree(versions=versions), "form": form})
    response.status_code = status
    return response


@login_required
@require_POST
def model_version_create(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    form = ModelVersionForm(request.POST, project=project, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            mv = services.model_version_create(
                project=project, user=request.user, name=d["name"], base_model=d["base_model"],
                adapter_path=d["adapter_path"], parent=d["parent"], backend=d["backend"],
                backend_options=d["backend_options"], parameter_count=d["parameter_count"],
                trust_remote_code=d.get("trust_remote_code", False))
        except ValidationError as exc:
            form_add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Registered %(name)s.") % {"name": mv.name})
            return _go(request, "model-version-list", project_id=project.pk)
    return _models_page(request, project, form, status=_form_error_status(request), fragment=request.htmx)


@login_required
@require_GET
def model_version_detail(request: HtmxHttpRequest, project_id: int, model_version_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    mv = selectors.model_version_get_for_user(user=request.user, project=project, model_version_id=model_version_id)
    return _detail_page(request, project, mv, force_form=ServingForceForm(prefix="force"),
                        rollback_form=ServingReasonForm(prefix="rollback"))


def _detail_page(request, project, mv, *, force_form, rollback_form, status=200):
    history = list(selectors.serving_history_for_user(user=request.user, project=project)[:50])
    serving = history[0] if history else None
    response = _page(request, project, "evaluation/model_detail.html", {
        "mv": mv, "children": mv.children.all(), "verdict": gate_verdict(model_version=mv), "serving": serving,
        "is_serving": serving is not None and serving.model_version_id == mv.pk,
        "history": history,
        "force_form": force_form, "rollback_form": rollback_form})
    response.status_code = status
    return response


@login_required
@require_POST
def model_version_promote(request: HtmxHttpRequest, project_id: int, model_version_id: int) -> HttpResponse:
    """Promote through the gate, or (with force=1) past it with a reason."""
    project = project_get_for_manager(user=request.user, project_id=project_id)
    mv = selectors.model_version_get_for_user(user=request.user, project=project, model_version_id=model_version_id)
    force = request.POST.get("force") == "1"
    form = ServingForceForm(request.POST, prefix="force")
    form.is_valid()
    try:
        services.serving_promote(model_version=mv, user=request.user, force=force,
                                 reason=form.cleaned_data.get("reason", ""))
    except ValidationError as exc:
        form_add_errors(form, exc)
        return _detail_page(request, project, mv, force_form=form, rollback_form=ServingReasonForm(prefix="rollback"),
                            status=422)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s is now the serving version.") % {"name": mv.name})
    return redirect("model-version-detail", project_id=project.pk, model_version_id=mv.pk)


@login_required
@require_POST
def serving_rollback(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    form = ServingReasonForm(request.POST, prefix="rollback")
    form.is_valid()
    try:
        change = services.serving_rollback(project=project, user=request.user,
                                           reason=form.cleaned_data.get("reason", ""))
    except (ValidationError, Conflict) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        return redirect("model-version-list", project_id=project.pk)
    messages.success(request, _("Rolled back: %(name)s is the serving version again.")
                     % {"name": change.model_version.name})
    return redirect("model-version-detail", project_id=project.pk, model_version_id=change.model_version_id)


@login_required
@require_POST
def model_version_delete(request: HtmxHttpRequest, project_id: int, model_version_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    mv = selectors.model_version_get_for_user(user=request.user, project=project, model_version_id=model_version_id)
    try:
        services.model_version_delete(model_version=mv)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _go(request, "model-version-detail", project_id=project.pk, model_version_id=mv.pk)
    messages.success(request, _("Deleted %(name)s.") % {"name": mv.name})
    return _go(request, "model-version-list", project_id=project.pk)


def _generation_page(request, project, form, status=200, fragment=False):
    jobs = selectors.generation_job_list_for_user(user=request.user, project=project)[:50]
    template = "evaluation/generation.html" + ("#generation-form" if fragment else "")
    response = _page(request, project, template, {"form": form, "jobs": jobs})
    response.status_code = status
    return response


@login_required
@require_GET
def generation_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    return _generation_page(request, project, GenerationForm(project=project))


@login_required
@require_POST
def generation_create(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    form = GenerationForm(request.POST, project=project)
    if form.is_valid():
        try:
            job = services.generation_job_create(
                project=project, user=request.user, model_versions=list(form.cleaned_data["model_versions"]),
                items=form.items_spec(), n_samples=form.cleaned_data["n_samples"], params=form.sampling())
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return _go(request, "generation-detail", project_id=project.pk, job_id=job.pk)
    return _generation_page(request, project, form, status=_form_error_status(request), fragment=request.htmx)


@login_required
@require_GET
def generation_detail(request: HtmxHttpRequest, project_id: int, job_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    job = selectors.generation_job_get_for_user(user=request.user, project=project, job_id=job_id)
    candidates = selectors.generation_job_candidates(job=job).order_by("item_id", "model_version_id",
                                                                        "sample_index")[:200]
    versions = selectors.model_version_list_for_user(user=request.user, project=project).filter(
        pk__in=job.params.get("model_version_ids", []))
    return _page(request, project, "evaluation/generation_detail.html",
                 {"job": job, "candidates": candidates, "versions": versions})


@login_required
@require_GET
def item_candidates(request: HtmxHttpRequest, project_id: int, item_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    item = selectors.item_get_for_manager(user=request.user, project=project, item_id=item_id)
    candidates = selectors.candidate_list_for_item(user=request.user, item=item)
    return _page(request, project, "evaluation/candidates.html", {"item": item, "candidates": candidates})
