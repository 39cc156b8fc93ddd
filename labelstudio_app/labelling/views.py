"""htmx pages: labelling, QA, dashboard, schema editor. Thin: services write, selectors read."""
import json
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelstudio_app.core import charts
from labelstudio_app.core.errors import Conflict
from labelstudio_app.core.http import HtmxHttpRequest, errors_split
from labelstudio_app.labelling import selectors, services
from labelstudio_app.labelling.forms import SchemaForm, annotation_values_from_post
from labelstudio_app.labelling.keys import PREVIEW, QA, page_keys
from labelstudio_app.labelling.widgets import item_suggestions, schema_widgets
from labelstudio_app.projects.answers import values_readable
from labelstudio_app.projects.chat import item_conversation
from labelstudio_app.projects.selectors import (
    project_get_for_annotator,
    project_get_for_manager,
    project_get_for_reviewer,
    project_roles,
)


def _card(request, project, *, item, values=None, errors=None, editing=None, notice="") -> dict:
    field_errors, general = errors_split(errors) if errors else ({}, [])
    keys = page_keys(project.label_schema, has_item=item is not None, can_skip=editing is None)
    return {
        "project": project, "item": item, "editing": editing, "notice": notice, "general_errors": general,
        "conversation": item_conversation(item) if item else [],
        "keys": keys, "keys_json": json.dumps(keys, ensure_ascii=False),
        "widgets": schema_widgets(project.label_schema, values, field_errors, keys=keys),
        "suggestions": item_suggestions(project.label_schema, item),
        "progress": selectors.label_progress(user=request.user, project=project),
        "back_before": editing.pk if editing else None,
        "roles": project_roles(user=request.user, project_id=project.pk),
    }


def _render_card(request: HtmxHttpRequest, context: dict) -> HttpResponse:
    template = "labelling/label.html" + ("#card" if request.htmx else "")
    return render(request, template, context)


def _next_card(request, project, notice="") -> HttpResponse:
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        return redirect("label-page", project_id=project.pk)
    item = services.item_next_for_annotator(project=project, user=request.user)
    return _render_card(request, _card(request, project, item=item, notice=notice))


@login_required
@require_GET
def label_page(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_annotator(user=request.user, project_id=project_id)
    item = services.item_next_for_annotator(project=project, user=request.user)
    return _render_card(request, _card(request, project, item=item))


@login_required
@require_POST
def label_submit(request: HtmxHttpRequest, project_id: int, item_id: int) -> HttpResponse:
    project = project_get_for_annotator(user=request.user, project_id=project_id)
    item = selectors.item_get_for_annotator(user=request.user, item_id=item_id, project=project)
    values = annotation_values_from_post(project.label_schema, request.POST)
    try:
        services.annotation_submit(item=item, user=request.user, values=values,
                                   time_spent_ms=request.POST.get("time_spent_ms"))
    except ValidationError as exc:
        editing = selectors.annotation_get_own(user=request.user, project=project, item_id=item.pk)
        return _render_card(request, _card(request, project, item=item, values=values, errors=exc, editing=editing))
    except Conflict as exc:
        return _next_card(request, project, notice=str(exc))
    return _next_card(request, project)


@login_required
@require_POST
def label_skip(request: HtmxHttpRequest, project_id: int, item_id: int) -> HttpResponse:
    project = project_get_for_annotator(user=request.user, project_id=project_id)
    item = selectors.item_get_for_annotator(user=request.user, item_id=item_id, project=project)
    services.assignment_skip(item=item, user=request.user)
    return _next_card(request, project)


@login_required
@require_GET
def label_previous(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """`u`: the annotator's previous annotation, editable (before ?before=<annotation id> when given)."""
    project = project_get_for_annotator(user=request.user, project_id=project_id)
    before = request.GET.get("before")
    annotation = selectors.annotation_previous_for_annotator(
        user=request.user, project=project, before_id=int(before) if before and before.isdigit() else None)
    if annotation is None:
        return _next_card(request, project, notice=_("There is no earlier annotation of yours."))
    return _render_card(request, _card(request, project, item=annotation.item, values=annotation.values,
                                       editing=annotation))


# ---- QA ------------------------------------------------------------------------------------------------

def _qa_card(request, project, annotation, *, values=None, errors=None, notice="") -> dict:
    field_errors, general = errors_split(errors) if errors else ({}, [])
    schema = project.label_schema
    others = []
    if annotation is not None:
        others = [{"annotator": a.annotator.username, "status": a.get_status_display(),
                   "answers": values_readable(schema, a.values)}
                  for a in selectors.annotation_list_for_item(item=annotation.item) if a.pk != annotation.pk]
    keys = page_keys(schema, page=QA, has_item=annotation is not None)
    return {
        "project": project, "annotation": annotation, "notice": notice, "general_errors": general,
        "keys": keys, "keys_json": json.dumps(keys, ensure_ascii=False),
        "fix_open": values is not None,  # a refused fix comes back with its panel open
        "item": annotation.item if annotation else None,
        "conversation": item_conversation(annotation.item) if annotation else [],
        "answers": values_readable(schema, annotation.values) if annotation else [],
        "others": others,
        "widgets": schema_widgets(schema, values if values is not None else (annotation.values if annotation else {}),
                                  field_errors, keys=keys),
        "pending": selectors.qa_pending_count(project=project, reviewer=request.user),
        "roles": project_roles(user=request.user, project_id=project.pk),
    }


@login_required
@require_GET
def qa_page(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_reviewer(user=request.user, project_id=project_id)
    annotation = selectors.annotation_next_for_qa(project=project, reviewer=request.user)
    template = "labelling/qa.html" + ("#card" if request.htmx else "")
    return render(request, template, _qa_card(request, project, annotation))


@login_required
@require_POST
def qa_decide(request: HtmxHttpRequest, project_id: int, annotation_id: int) -> HttpResponse:
    project = project_get_for_reviewer(user=request.user, project_id=project_id)
    annotation = selectors.annotation_get_for_reviewer(user=request.user, annotation_id=annotation_id, project=project)
    action = request.POST.get("action", "")
    values = annotation_values_from_post(project.label_schema, request.POST) if action == "fix" else None
    notice = ""
    try:
        services.annotation_review(annotation=annotation, user=request.user, action=action, values=values)
    except PermissionDenied as exc:
        notice = str(exc)
    except ValidationError as exc:
        if "action" not in getattr(exc, "error_dict", {}):
            template = "labelling/qa.html" + ("#card" if request.htmx else "")
            return render(request, template, _qa_card(request, project, annotation, values=values, errors=exc))
        notice = " ".join(exc.messages)
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        return redirect("label-qa", project_id=project.pk)
    nxt = selectors.annotation_next_for_qa(project=project, reviewer=request.user)
    return render(request, "labelling/qa.html#card", _qa_card(request, project, nxt, notice=notice))


# ---- dashboard and schema ------------------------------------------------------------------------------

@login_required
@require_GET
def dashboard_page(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    numbers = selectors.dashboard_numbers(project=project)
    return render(request, "labelling/dashboard.html", {
        "project": project, "n": numbers, "charts": _dashboard_charts(numbers),
        "roles": project_roles(user=request.user, project_id=project.pk)})


def _dashboard_charts(n: dict) -> dict:
    total, progress = 0, []
    for day, count in n["per_day"]:
        total += count
        progress.append((day.toordinal(), total))
    counts = [a["count"] for a in n["annotators"]]
    alphas = [q for q in n["questions"] if q["alpha"] is not None]
    none = _("No annotations yet.")
    return {
        "progress": charts.lines([{"name": _("annotations (cumulative)"), "points": progress}],
                                 title=_("Labelling progress by day"), x_label=_("day"), y_label=_("annotations"),
                                 x_format=lambda v: date.fromordinal(int(v)).isoformat(), height=240, empty=none),
        "throughput": charts.forest([{"label": a["username"], "value": a["count"]} for a in n["annotators"]],
                                    title=_("Annotations per annotator"), lo=0, hi=max(counts or [1]) * 1.1,
                                    ref=None, pct=False, value_name=_("Annotations"), empty=none),
        # 0.8 is Krippendorff's own threshold for data to rely on.
        "agreement": charts.forest([{"label": q["label"], "value": q["alpha"], "n": q["items"]} for q in alphas],
                                   title=_("Krippendorff's alpha per question"),
                                   lo=min([0.0] + [q["alpha"] for q in alphas]), hi=1.0, ref=0.8, pct=False,
                                   value_name=_("Krippendorff's alpha"),
                                   empty=_("Agreement appears once two annotators label the same items.")),
    }


@login_required
@require_http_methods(["GET", "POST"])
def schema_edit(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    schema = project.label_schema
    if request.method == "POST":
        form = SchemaForm(request.POST)
        if form.is_valid():
            services.project_schema_update(project=project, schema=form.cleaned_data["label_schema"],
                                           instructions=form.cleaned_data["instructions"])
            messages.success(request, _("Schema saved."))
            return redirect("label-schema", project_id=project.pk)
    else:
        form = SchemaForm(initial={"label_schema": json.dumps(schema, ensure_ascii=False, indent=2),
                                   "instructions": project.instructions})
    keys = page_keys(schema, page=PREVIEW)
    return render(request, "labelling/schema.html", {
        "project": project, "form": form, "widgets": schema_widgets(schema, keys=keys),
        "keys": keys, "keys_json": json.dumps(keys, ensure_ascii=False),
        "roles": project_roles(user=request.user, project_id=project.pk)})
