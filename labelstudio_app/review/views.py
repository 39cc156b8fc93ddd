"""htmx pages of the blind review (reviewers) and of rounds and statistics (managers). Thin."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelstudio_app.core import charts
from labelstudio_app.core.errors import Conflict
from labelstudio_app.core.http import HtmxHttpRequest, form_add_errors
from labelstudio_app.projects.selectors import project_get_for_manager, project_get_for_reviewer, project_roles
from labelstudio_app.review import exports, reports, selectors, services
from labelstudio_app.review.forms import DIMENSION_LABELS, JudgmentForm, RoundForm
from labelstudio_app.review.models import ComparisonRound

# ---- reviewers -----------------------------------------------------------------------------------------------

def _score_rows(form: JudgmentForm) -> dict:
    """Per side: (field name, label, the value to show checked) for each 3H dimension."""
    data = form.data if form.is_bound else {}
    return {side: [(f"{side}_{d}", label, str(data.get(f"{side}_{d}", ""))) for d, label in DIMENSION_LABELS.items()]
            for side in ("left", "right")}


def _review_context(request, project, comparison, form=None, notice: str = "") -> dict:
    # the htmx answer is the card alone: no tabs, so no roles to look up
    roles = frozenset() if request.htmx else project_roles(user=request.user, project_id=project.pk)
    form = form or JudgmentForm()
    return {"project": project, "roles": roles,
            "card": selectors.comparison_card(comparison=comparison) if comparison else None,
            "left_in_round": selectors.review_left_in_round(comparison=comparison, user=request.user) if comparison else 0,
            "form": form, "notice": notice, "score_rows": _score_rows(form),
            "progress": selectors.review_progress(project=project, user=request.user)}


def _render_review(request, context, status=200) -> HttpResponse:
    template = "review/review.html" + ("#card" if request.htmx else "")
    return render(request, template, context, status=status)


@login_required
@require_GET
def review_next(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_reviewer(user=request.user, project_id=project_id)
    comparison = services.comparison_claim_next(project=project, user=request.user)
    return _render_review(request, _review_context(request, project, comparison))


@login_required
@require_POST
def review_submit(request: HtmxHttpRequest, project_id: int, public_id: str) -> HttpResponse:
    project = project_get_for_reviewer(user=request.user, project_id=project_id)
    comparison = selectors.comparison_get_for_reviewer(project=project, public_id=public_id)
    form = JudgmentForm(request.POST)
    if not form.is_valid():
        return _render_review(request, _review_context(request, project, comparison, form=form))
    notice = ""
    try:
        services.judgment_submit(comparison=comparison, user=request.user, scores=form.scores(),
                                 preference=form.cleaned_data["preference"], comment=form.cleaned_data["comment"])
    except (ValidationError, Conflict) as exc:
        notice = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    if not request.htmx:
        if notice:
            messages.error(request, notice)
        return redirect("review-next", project_id=project.pk)
    nxt = services.comparison_claim_next(project=project, user=request.user)
    return _render_review(request, _review_context(request, project, nxt, notice=notice or _("Saved.")))


@login_required
@require_POST
def review_skip(request: HtmxHttpRequest, project_id: int, public_id: str) -> HttpResponse:
    project = project_get_for_reviewer(user=request.user, project_id=project_id)
    comparison = selectors.comparison_get_for_reviewer(project=project, public_id=public_id)
    services.comparison_skip(comparison=comparison, user=request.user)
    if not request.htmx:
        return redirect("review-next", project_id=project.pk)
    nxt = services.comparison_claim_next(project=project, user=request.user)
    return _render_review(request, _review_context(request, project, nxt, notice=_("Skipped.")))


# ---- managers: rounds ----------------------------------------------------------------------------------------

def _round_form(project, data=None) -> RoundForm:
    return RoundForm(data, model_versions=selectors.model_version_list_for_project(project=project))


def _rounds_page(request, project, form, status=200) -> HttpResponse:
    rounds = selectors.round_list_for_project(project=project)[:200]
    return render(request, "review/rounds.html", {
        "project": project, "roles": project_roles(user=request.user, project_id=project.pk),
        "rounds": rounds, "form": form}, status=status)


@login_required
@require_GET
def round_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    return _rounds_page(request, project, _round_form(project))


@login_required
@require_POST
def round_create(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    form = _round_form(project, request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            items = selectors.items_select(project=project, task_type=d["task_type"], status=d["status"],
                                           ids=d["item_ids"], sample=d["sample"])
            rnd = services.round_create(
                project=project, user=request.user, name=d["name"], model_a=d["model_a"], model_b=d["model_b"],
                items=items, overlap=d["overlap"], params=d["params"], generate=d["generate"], n_gold=d["n_gold"] or 0)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect("round-detail", project_id=project.pk, round_id=rnd.pk)
    return _rounds_page(request, project, form, status=400)


def _round_charts(st: dict, rnd: ComparisonRound) -> dict:
    name_a = rnd.model_a.name
    name_b = rnd.model_b.name if rnd.model_b_id else _("Reference answer")
    rows = [{"label": _("All"), "value": st["win_rate"]["rate"], "low": st["win_rate"]["low"],
             "high": st["win_rate"]["high"], "n": st["win_rate"]["n"]}]
    rows += [{"label": t["task_type"], "value": t["rate"], "low": t["low"], "high": t["high"], "n": t["n"]}
             for t in st["per_task_type"]]
    dims = [{"label": DIMENSION_LABELS[d["dimension"]], "a": d["a"], "b": d["b"]} for d in st["dimensions"]]
    buckets = [{"label": f"{b['low_edge']:+.2f} … {b['high_edge']:+.2f}", "value": b["rate"], "low": b["low"],
                "high": b["high"], "n": b["n"]} for b in st["length_bias"]["buckets"]]
    pos = [{"label": _("All reviewers"), "value": st["position_bias"]["overall"]["rate"],
            "low": st["position_bias"]["overall"]["low"], "high": st["position_bias"]["overall"]["high"],
            "n": st["position_bias"]["overall"]["n"]}]
    pos += [{"label": r["reviewer"], "value": r["rate"], "low": r["low"], "high": r["high"], "n": r["n"]}
            for r in st["position_bias"]["per_reviewer"]]
    none = _("No judgments yet.")
    return {
        "win": charts.forest(rows, title=_("Win rate of %(a)s over %(b)s") % {"a": name_a, "b": name_b},
                             value_name=_("Win rate"), empty=none),
        "dims": charts.paired_bars(dims, title=_("Mean 3H scores"), labels=(name_a, name_b), empty=none),
        "length": charts.forest(buckets, title=_("Win rate of A by relative length difference (A−B)/(A+B)"),
                                value_name=_("Win rate"), empty=none),
        "position": charts.forest(pos, title=_("Share of decisive votes won by Left"), value_name=_("Left share"),
                                  empty=none),
    }


@login_required
@require_GET
def round_detail(request: HtmxHttpRequest, project_id: int, round_id: int) -> HttpResponse:
    rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
    st = reports.round_statistics(round=rnd)
    page = Paginator(selectors.comparison_list_for_round(round=rnd), 50).get_page(request.GET.get("page"))
    return render(request, "review/round_detail.html", {
        "project": rnd.project, "roles": project_roles(user=request.user, project_id=rnd.project_id), "round": rnd,
        "st": st, "charts": _round_charts(st, rnd), "page": page,
        "name_b": rnd.model_b.name if rnd.model_b_id else _("Reference answer")})


@login_required
@require_POST
def round_status(request: HtmxHttpRequest, project_id: int, round_id: int) -> HttpResponse:
    rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
    try:
        services.round_status_set(round=rnd, status=request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("round-detail", project_id=rnd.project_id, round_id=rnd.pk)


@login_required
@require_POST
def comparison_flag(request: HtmxHttpRequest, project_id: int, round_id: int, comparison_id: int) -> HttpResponse:
    rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
    comparison = selectors.comparison_get_in_round(round=rnd, comparison_id=comparison_id)
    try:
        outcome = services.candidate_exclude(comparison=comparison, side=request.POST.get("side", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, {"replaced": _("Flagged; the comparison now shows another sample."),
                                   "withdrawn": _("Flagged; the comparison was withdrawn from review."),
                                   "mixed": _("Flagged; comparisons were replaced or withdrawn.")}[outcome])
    return redirect("round-detail", project_id=rnd.project_id, round_id=rnd.pk)


@login_required
@require_GET
def round_export(request: HtmxHttpRequest, project_id: int, round_id: int) -> StreamingHttpResponse:
    rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
    response = StreamingHttpResponse(exports.preference_pairs(rounds=ComparisonRound.objects.filter(pk=rnd.pk)),
                                     content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="preferences-round-{rnd.pk}.jsonl"'
    return response


@login_required
@require_GET
def round_export_file(request: HtmxHttpRequest, project_id: int, round_id: int, container: str) -> FileResponse:
    """The round's preference pairs as Parquet or a zipped Hugging Face `datasets` folder."""
    rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
    name = f"preferences-round-{rnd.pk}"
    out = exports.preference_pairs_file(rounds=ComparisonRound.objects.filter(pk=rnd.pk), container=container,
                                        folder=name)
    return FileResponse(out, as_attachment=True, filename=f"{name}.{exports.FILE_EXTENSIONS[container]}")


@login_required
@require_http_methods(["GET"])
def review_stats(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_manager(user=request.user, project_id=project_id)
    st = reports.project_statistics(project=project)
    rating_rows = [{"label": r["label"], "value": r["rating"], "low": r["low"], "high": r["high"], "n": r["battles"]}
                   for r in st["ratings"]]
    lo = min([r["low"] or r["rating"] for r in st["ratings"]] or [900]) - 20
    hi = max([r["high"] or r["rating"] for r in st["ratings"]] or [1100]) + 20
    pos = st["position_bias"]
    pos_rows = [{"label": _("All reviewers"), "value": pos["overall"]["rate"], "low": pos["overall"]["low"],
                 "high": pos["overall"]["high"], "n": pos["overall"]["n"]}]
    pos_rows += [{"label": r["reviewer"], "value": r["rate"], "low": r["low"], "high": r["high"], "n": r["n"]}
                 for r in pos["per_reviewer"]]
    buckets = [{"label": f"{b['low_edge']:+.2f} … {b['high_edge']:+.2f}", "value": b["rate"], "low": b["low"],
                "high": b["high"], "n": b["n"]} for b in st["length_bias"]["buckets"]]
    none = _("No judgments yet.")
    chart = {
        "ratings": charts.forest(rating_rows, title=_("Bradley–Terry ratings (Elo scale)"), lo=lo, hi=hi, ref=1000,
                                 pct=False, value_name=_("Rating"), empty=none),
        "matrix": charts.heatmap(st["players"], st["win_matrix"], title=_("Pairwise win rates (row over column)"),
                                 empty=_("No two models have met in a judged comparison yet.")),
        "position": charts.forest(pos_rows, title=_("Share of decisive votes won by Left"),
                                  value_name=_("Left share"), empty=none),
        "length": charts.forest(buckets, title=_("Win rate of A by relative length difference (A−B)/(A+B)"),
                                value_name=_("Win rate"), empty=none),
    }
    return render(request, "review/stats.html", {
        "project": project, "roles": project_roles(user=request.user, project_id=project.pk), "st": st, "charts": chart})
