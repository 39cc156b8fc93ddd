"""Project pages (htmx): overview, create, settings, members, items, import, export. Thin: forms validate,
services write, selectors read and check access."""
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelstudio_app.accounts import roles as R
from labelstudio_app.core.http import HtmxHttpRequest, staff_required
from labelstudio_app.projects import selectors, services
from labelstudio_app.projects.answers import values_readable
from labelstudio_app.projects.chat import item_conversation
from labelstudio_app.projects.exports import EXPORT_FORMATS
from labelstudio_app.projects.forms import (
    EXPORT_LABELS,
    ExportForm,
    ImportForm,
    ImportRemapForm,
    ImportStartForm,
    MemberAddForm,
    ProjectForm,
)
from labelstudio_app.projects.importers import LABELSTUDIO_FORMATS
from labelstudio_app.projects.loop import project_loop
from labelstudio_app.projects.models import Item
from labelstudio_app.projects.selectors import project_roles


@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "projects/home.html", {"projects": selectors.project_list_for_user(user=request.user)})


def _ctx(request, project, **extra) -> dict:
    return {"project": project, "roles": project_roles(user=request.user, project_id=project.pk), **extra}


@login_required
@require_GET
def project_detail(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_member(user=request.user, project_id=project_id)
    context = _ctx(request, project, counts=selectors.project_counts(project=project))
    context["loop"] = project_loop(project=project, roles=context["roles"], is_admin=R.is_admin(request.user))
    return render(request, "projects/detail.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def project_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = services.project_create(user=request.user, **form.changes())
        messages.success(request, _("Project created; you are its manager."))
        return redirect("project-detail", project_id=project.pk)
    return render(request, "projects/create.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        services.project_update(project=project, **form.changes())
        messages.success(request, _("Settings saved."))
        return redirect("project-settings", project_id=project.pk)
    return render(request, "projects/settings.html", _ctx(request, project, form=form))


def _members_ctx(request, project, **extra) -> dict:
    members = list(selectors.membership_list(project=project))
    # Nobody to label or review yet: the page leads with "Add a member" (the page is for managers only).
    lone = not any(m.role not in R.MANAGERS for m in members)
    return _ctx(request, project, members=members, needs_team=lone, **extra)


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    form = MemberAddForm(request.POST or None)
    notice = ""
    if request.method == "POST" and form.is_valid():
        username, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            services.member_add(project=project, username=username, role=role)
            notice = services.member_add_message(username=username, role=role)
            form = MemberAddForm()
        except ValidationError as exc:
            form.add_error("username", exc)
    template = "projects/members.html" + ("#members" if request.htmx else "")
    return render(request, template, _members_ctx(request, project, form=form, notice=notice))


@login_required
@require_POST
def project_member_remove(request: HtmxHttpRequest, project_id: int, membership_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    error = ""
    try:
        services.member_remove(membership=selectors.membership_get(project=project, membership_id=membership_id))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return render(request, "projects/members.html#members",
                      _members_ctx(request, project, form=MemberAddForm(), error=error))
    if error:
        messages.error(request, error)
    return redirect("project-members", project_id=project.pk)


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@login_required
@require_GET
def item_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """One keyset page; its Previous / Next links carry the cursor (?before= / ?after=) and the filters."""
    g = request.GET
    page = selectors.item_list_for_user(user=request.user, project_id=project_id, status=g.get("status", ""),
                                        task_type=g.get("task_type", ""), q=g.get("q", "").strip(),
                                        sort=g.get("sort", "id"), after=_int_or_none(g.get("after")),
                                        before=_int_or_none(g.get("before")))
    labels = dict(Item.Status.choices)
    for row in page.items:
        row["status_label"] = labels.get(row["status"], row["status"])
    filters = urlencode({k: v for k, v in page.filters.items() if v})
    context = _ctx(request, page.project, page=page, filters=filters, statuses=Item.Status.choices)
    context["may_import"] = bool(set(R.MANAGERS) & context["roles"])  # the empty list's "Import data" button
    return render(request, "projects/items.html", context)


@login_required
@require_GET
def item_detail(request: HtmxHttpRequest, project_id: int, item_id: int) -> HttpResponse:
    item = selectors.item_get_for_user(user=request.user, project_id=project_id, item_id=item_id)
    answer_key = selectors.item_answer_key_visible(user=request.user, project=item.project)
    # the asker's name stays out of the page, like every other sender's
    metadata = {k: v for k, v in (item.metadata or {}).items() if k != "sender"} if answer_key else {}
    final_label = values_readable(item.project.label_schema, item.final_values) \
        if answer_key and item.final_values is not None else []
    return render(request, "projects/item.html", _ctx(request, item.project, item=item, metadata=metadata,
                                                      answer_key=answer_key, final_label=final_label,
                                                      conversation=item_conversation(item)))


def _import_ctx(request, project, **extra):
    jobs = selectors.project_jobs_for_user(user=request.user, project=project, kind="import")
    return _ctx(request, project, jobs=jobs, max_mb=settings.MAX_UPLOAD_MB, **extra)


@login_required
@require_GET
def import_page(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    return render(request, "projects/import.html", _import_ctx(request, project, form=ImportForm()))


@login_required
@require_POST
def import_preview(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Saves the upload and shows the first rows and counts; the "Import" button then starts the job."""
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    form = ImportForm(request.POST, request.FILES)
    preview = saved = None
    if form.is_valid():
        try:
            options = services.import_options_clean(fmt=form.cleaned_data["format"], options=form.import_options(),
                                                    schema=project.label_schema)
            saved = services.import_upload_save(project=project, upload=form.cleaned_data["file"])
            path = services.import_upload_path(project=project, token=saved["token"])
            preview = services.import_preview(path=path, fmt=form.cleaned_data["format"], options=options,
                                              schema=project.label_schema)
            saved["options"] = options
            # The import would be refused: the file is not kept, unless a changed Label Studio mapping (the
            # preview's table) can still make it import.
            if preview["report"]["errors"] and preview["format"] not in LABELSTUDIO_FORMATS:
                services.import_upload_delete(path=str(path))
        except ValidationError as exc:
            form.add_error("file", exc)
    return _preview_render(request, project, form=form, preview=preview, saved=saved,
                           fmt=form.data.get("format", "auto"))


@login_required
@require_POST
def import_remap(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Previews the saved upload again with the mapping chosen in the preview's table."""
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    form = ImportRemapForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Upload the file again."), status=400)
    fmt = form.cleaned_data["format"]
    try:
        options = services.import_options_clean(fmt=fmt, options=form.options_with_mapping(),
                                                schema=project.label_schema)
        path = services.import_upload_path(project=project, token=form.cleaned_data["token"])
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    preview = services.import_preview(path=path, fmt=fmt, options=options, schema=project.label_schema)
    saved = {"token": form.cleaned_data["token"], "filename": path.name, "options": options}
    return _preview_render(request, project, form=ImportForm(), preview=preview, saved=saved, fmt=fmt)


def _preview_render(request, project, *, form, preview, saved, fmt) -> HttpResponse:
    """The import page (or its preview partial) showing `preview` of the saved upload `saved`."""
    template = "projects/import.html" + ("#preview" if request.htmx else "")
    return render(request, template, _import_ctx(
        request, project, form=form, preview=preview, saved=saved, fmt=fmt,
        options_json=json.dumps((saved or {}).get("options", {})),
        questions=[q["name"] for q in project.label_schema or []]))


@login_required
@require_POST
def import_start(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    form = ImportStartForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Upload the file again."), status=400)
    try:
        job = services.import_start(project=project, user=request.user, token=form.cleaned_data["token"],
                                    fmt=form.cleaned_data["format"], options=form.cleaned_data["options"] or "{}")
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.htmx:
        return render(request, "projects/import.html#started", _import_ctx(request, project, job=job))
    return redirect("import-page", project_id=project.pk)


def _export_ctx(request, project, **extra):
    jobs = selectors.project_jobs_for_user(user=request.user, project=project, kind="export")
    return _ctx(request, project, jobs=jobs, formats=[(f, EXPORT_LABELS[f]) for f in EXPORT_FORMATS], **extra)


@login_required
@require_GET
def export_page(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    return render(request, "projects/export.html", _export_ctx(request, project, form=ExportForm()))


@login_required
@require_POST
def export_start(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
    form = ExportForm(request.POST)
    if form.is_valid():
        job = services.export_start(project=project, user=request.user, fmt=form.cleaned_data["format"],
                                    scope=form.cleaned_data["scope"], container=form.cleaned_data["container"] or "native")
        if request.htmx:
            return render(request, "projects/export.html#started", _export_ctx(request, project, job=job))
        return redirect("export-page", project_id=project.pk)
    return render(request, "projects/export.html", _export_ctx(request, project, form=form), status=400)


@login_required
@require_GET
def export_download(request: HtmxHttpRequest, project_id: int, job_id: int) -> FileResponse:
    job = selectors.export_job_get_for_user(user=request.user, project_id=project_id, job_id=job_id)
    path = services.export_file_path(job=job)
    if path is None:
        raise Http404("This export has no file (not finished, or removed).")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
