"""Reads of model versions, generation jobs and candidates. Managers (and staff) only: reviewers never
learn which model wrote what, so every user-facing read here starts from a manager-scoped project.

Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from labelstudio_app.evaluation.models import Candidate, ModelVersion, OutboundEndpoint, ServingChange
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.selectors import project_get_for_manager


def _managed(user, project: Project) -> Project:
    # Re-check from the user's side so a caller cannot pass a project it merely holds a reference to.
    return project_get_for_manager(user=user, project_id=project.pk)


def outbound_endpoint_names() -> list[str]:
    """The enabled endpoints a manager may pick for an openai backend (names only: URLs stay with staff)."""
    return list(OutboundEndpoint.objects.filter(enabled=True).order_by("name").values_list("name", flat=True))


def outbound_endpoint_get_enabled(*, name: str) -> OutboundEndpoint | None:
    return OutboundEndpoint.objects.filter(name=name, enabled=True).first()


def model_version_list_for_user(*, user, project: Project) -> QuerySet[ModelVersion]:
    project = _managed(user, project)
    return (ModelVersion.objects.filter(project=project).select_related("parent", "created_by")
            .annotate(candidates_count=Count("candidates")).order_by("id"))


def model_version_get_for_user(*, user, project: Project, model_version_id: int) -> ModelVersion:
    return get_object_or_404(model_version_list_for_user(user=user, project=project), pk=model_version_id)


def model_version_tree(*, versions: list[ModelVersion]) -> list[tuple[ModelVersion, int]]:
    """Versions in lineage order: each root followed by its descendants, with their depth."""
    children: dict[int | None, list[ModelVersion]] = {}
    ids = {mv.pk for mv in versions}
    for mv in versions:
        parent = mv.parent_id if mv.parent_id in ids else None
        children.setdefault(parent, []).append(mv)
    out: list[tuple[ModelVersion, int]] = []

    def walk(parent_id, depth):
        for mv in children.get(parent_id, []):
            out.append((mv, depth))
            walk(mv.pk, depth + 1)

    walk(None, 0)
    return out


def item_get_for_manager(*, user, project: Project, item_id: int) -> Item:
    project = _managed(user, project)
    return get_object_or_404(Item.objects.filter(project=project), pk=item_id)


def candidate_list_for_item(*, user, item: Item) -> QuerySet[Candidate]:
    """Every candidate for `item`, with its model version, for managers of the item's project."""
    _managed(user, item.project)
    return (Candidate.objects.filter(item=item).select_related("model_version")
            .order_by("model_version_id", "params_hash", "sample_index"))


def generation_job_list_for_user(*, user, project: Project) -> QuerySet[Job]:
    project = _managed(user, project)
    return Job.objects.filter(project=project, kind="generation").select_related("project", "created_by")


def generation_job_get_for_user(*, user, project: Project, job_id: int) -> Job:
    return get_object_or_404(generation_job_list_for_user(user=user, project=project), pk=job_id)


def generation_job_candidates(*, job: Job) -> QuerySet[Candidate]:
    """The candidates a generation job asked for (written by it or an earlier run): caller checked access."""
    p = job.params
    return (Candidate.objects.filter(model_version_id__in=p.get("model_version_ids", []),
                                     item_id__in=p.get("item_ids", []), params_hash=p.get("params_hash", ""),
                                     sample_index__lt=p.get("n_samples", 1))
            .select_related("model_version", "item"))


# ---- worker-side reads (no user: the job was authorised when it was created) ----------------------

def candidate_keys_done(*, model_version_id: int, item_ids: list[int], params_hash: str,
                        prompt_sha256s: dict[int, str] | None = None) -> set[tuple[int, int]]:
    """(item_id, sample_index) pairs already written for one model version and parameter set; with
    `prompt_sha256s` ({item_id: sha}), only those asked the item's current prompt count."""
    rows = Candidate.objects.filter(model_version_id=model_version_id, item_id__in=item_ids, params_hash=params_hash)
    if prompt_sha256s is None:
        return set(rows.values_list("item_id", "sample_index"))
    return {(i, s) for i, s, sha in rows.values_list("item_id", "sample_index", "prompt_sha256")
            if prompt_sha256s.get(i) == sha}


def items_for_generation(*, project_id: int, item_ids: list[int]) -> dict[int, Item]:
    items = Item.objects.filter(project_id=project_id, pk__in=item_ids).select_related("project")
    return {item.pk: item for item in items}


def model_versions_for_job(*, project_id: int, ids: list[int]) -> list[ModelVersion]:
    return list(ModelVersion.objects.filter(project_id=project_id, pk__in=ids).order_by("id"))




def model_version_get_by_name(*, project_id: int, name: str) -> ModelVersion | None:
    """For the worker's jobs: the project's version of that name, if any (no user scope)."""
    return ModelVersion.objects.filter(project_id=project_id, name=name).first()


def model_version_get_for_job(*, job: Job) -> ModelVersion:
    """The version a `template_check` job checks (its params name it; the job's project owns it)."""
    return ModelVersion.objects.get(pk=job.params["model_version_id"], project_id=job.project_id)


def candidate_count(project: Project) -> int:
    return Candidate.objects.filter(item__project=project).count()


def trained_version_count(project: Project) -> int:
    """Versions a training run registered (they have a parent)."""
    return ModelVersion.objects.filter(project=project, parent__isnull=False).count()


# ---- the serving version (managers) --------------------------------------------------------------------

def _serving_changes(project: Project) -> QuerySet[ServingChange]:
    return (ServingChange.objects.filter(project=project).select_related("model_version", "previous", "created_by")
            .order_by("-id"))


def serving_change_current(*, project: Project) -> ServingChange | None:
    """The latest serving change of a project: its model version is the serving one. Caller checked access."""
    return _serving_changes(project).first()


def serving_history_for_user(*, user, project: Project) -> QuerySet[ServingChange]:
    """Newest first: the first change names the serving version."""
    return _serving_changes(_managed(user, project))
