"""Reads of projects and items, always scoped to the user. Every permission check starts here.

Reads, scoped to the user; projects through projects.selectors.project_get_for_<role>, which 404s outsiders (docs/rules.md).
"""
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from labelstudio_app.accounts import roles as R
from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.selectors import job_list_for_user
from labelstudio_app.projects.models import Item, Project


def project_roles(*, user, project_id: int) -> frozenset[str]:
    """The roles `user` holds in the project; staff hold every role."""
    if not user.is_authenticated:
        return frozenset()
    if R.is_admin(user):
        return R.ALL_ROLES
    return frozenset(Membership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True))


def project_list_for_user(*, user, roles: Iterable[str] | None = None) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if R.is_admin(user):
        return Project.objects.all()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return Project.objects.filter(pk__in=memberships.values("project_id"))


def project_get_for_user(*, user, project_id: int, roles: Iterable[str] | None = None) -> Project:
    """The project if `user` holds one of `roles` in it (any role when None); 404 otherwise, so outsiders
    cannot even learn that it exists. Domains call the named `project_get_for_<role>` below."""
    try:
        return project_list_for_user(user=user, roles=roles).get(pk=project_id)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None


def project_get_for_member(*, project_id: int, user) -> Project:
    """Any role in the project (or admin)."""
    return project_get_for_user(user=user, project_id=project_id)


def project_get_for_manager(*, project_id: int, user) -> Project:
    return project_get_for_user(user=user, project_id=project_id, roles=R.MANAGERS)


def project_get_for_annotator(*, project_id: int, user) -> Project:
    """Annotators and managers: the people who label."""
    return project_get_for_user(user=user, project_id=project_id, roles=R.ANNOTATORS)


def project_get_for_reviewer(*, project_id: int, user) -> Project:
    """Reviewers and managers: QA of annotations and the blind review."""
    return project_get_for_user(user=user, project_id=project_id, roles=R.REVIEWERS)


def project_get_for_item_reader(*, project_id: int, user) -> Project:
    return project_get_for_user(user=user, project_id=project_id, roles=R.ITEM_READERS)


def project_get_for_admin(*, project_id: int, user) -> Project:
    """Admins (staff) only; 404 for everyone else, members included."""
    if not R.is_admin(user):
        raise Http404("No such project.")
    return project_get_for_user(user=user, project_id=project_id)


# ---- project pages ------------------------------------------------------------------------------------------

ITEM_SORTS = {"id": "id", "-id": "-id"}
PAGE_SIZE = 50


def project_counts(*, project: Project) -> dict:
    """Items total / open / labelled / done, and per task type (two GROUP BY queries on indexed columns)."""
    by_status = dict(Item.objects.filter(project=project).order_by().values_list("status")
                     .annotate(n=Count("id")).values_list("status", "n"))
    by_type = list(Item.objects.filter(project=project).order_by().values("task_type")
                   .annotate(total=Count("id"), done=Count("id", filter=Q(status=Item.Status.DONE)))
                   .order_by("-total", "task_type")[:50])
    return {"total": sum(by_status.values()), **{s: by_status.get(s, 0) for s in Item.Status.values},
            "by_task_type": by_type}


def membership_list(*, project: Project):
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username", "role")


@dataclass
class ItemPage:
    project: Project
    items: list[dict]  # ITEM_LIST_FIELDS (+ is_gold with the answer key), in the page's sort order
    next_after: int | None  # pass as ?after= for the next page; None on the last page
    prev_before: int | None  # pass as ?before= for the previous page; None on the first page
    filters: dict
    answer_key: bool = False  # whether the reader may see gold flags (see roles.ANSWER_KEY_READERS)


def item_answer_key_visible(*, user, project: Project) -> bool:
    """True when `user` may read the project's answer key (reference answers, gold, final labels, metadata)."""
    return bool(project_roles(user=user, project_id=project.pk) & set(R.ANSWER_KEY_READERS))


def membership_get(*, project: Project, membership_id: int) -> Membership:
    """One membership of this project; 404 for an id of another project."""
    membership = Membership.objects.filter(project=project, pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


ITEM_LIST_FIELDS = ("id", "external_id", "text", "task_type", "status")


def item_list_for_user(*, user, project_id: int, status: str = "", task_type: str = "", q: str = "",
                       sort: str = "id", after: int | None = None, before: int | None = None,
                       limit: int = PAGE_SIZE) -> ItemPage:
    """A keyset page of a project's items: WHERE id > after ORDER BY id LIMIT n (or the mirror image for
    `before`, the previous page, and for sort -id), on the (project, id), (project, status, id) and (project,
    task_type, id) indexes, so page 20,000 costs what page 1 does. Search is a case-insensitive substring match
    (CJK included) over the text only. Rows are plain dicts (no model instances: a page is read, never saved).
    Readers without the answer key get the items without their gold flag. Two queries: the project with the
    reader's access to the answer key, and the page."""
    projects = project_list_for_user(user=user, roles=R.ITEM_READERS)
    if not R.is_admin(user):
        projects = projects.annotate(answer_key=Exists(Membership.objects.filter(
            user=user, project=OuterRef("pk"), role__in=R.ANSWER_KEY_READERS)))
    project = projects.filter(pk=project_id).first()
    if project is None:
        raise Http404("No such project.")
    answer_key = getattr(project, "answer_key", True)
    items = Item.objects.filter(project=project)
    if status:
        items = items.filter(status=status)
    if task_type:
        items = items.filter(task_type=task_type)
    if q:
        items = items.filter(text__icontains=q)
    sort = sort if sort in ITEM_SORTS else "id"
    ascending = sort == "id"
    backward = before is not None and after is None  # the previous page: read towards the start, then flip
    if backward:
        items = items.filter(id__lt=before) if ascending else items.filter(id__gt=before)
    elif after is not None:
        items = items.filter(id__gt=after) if ascending else items.filter(id__lt=after)
    order = "id" if ascending != backward else "-id"
    fields = ITEM_LIST_FIELDS + (("is_gold",) if answer_key else ())
    rows = list(items.order_by(order).values(*fields)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    first, last = (rows[0]["id"], rows[-1]["id"]) if rows else (None, None)
    # Coming back from a later page there is always a next one; having come forward, there is a previous one.
    next_after = last if (backward or more) else None
    prev_before = first if (more if backward else after is not None) else None
    return ItemPage(project=project, items=rows, next_after=next_after, prev_before=prev_before,
                    filters={"status": status, "task_type": task_type, "q": q, "sort": sort}, answer_key=answer_key)


def item_get_for_user(*, user, project_id: int, item_id: int) -> Item:
    project = project_get_for_item_reader(user=user, project_id=project_id)
    try:
        return Item.objects.select_related("project").get(project=project, pk=item_id)
    except Item.DoesNotExist:
        raise Http404("No such item.") from None


def project_jobs_for_user(*, user, project: Project, kind: str, limit: int = 20) -> list[Job]:
    return list(job_list_for_user(user=user, project=project).filter(kind=kind)[:limit])


def export_job_get_for_user(*, user, project_id: int, job_id: int) -> Job:
    project = project_get_for_manager(user=user, project_id=project_id)
    job = job_list_for_user(user=user, project=project).filter(kind="export", pk=job_id).first()
    if job is None:
        raise Http404("No such export.")
    return job


# ---- for the worker's jobs (no user scope: the job row already carries who asked) ---------------------------

def project_get_for_job(*, project_id: int) -> Project:
    return Project.objects.get(pk=project_id)


def item_count_for_job(*, job_id: int) -> int:
    """Items an import job has stored (an earlier attempt that committed leaves them)."""
    return Item.objects.filter(source_job_id=job_id).count()
