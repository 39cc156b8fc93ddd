"""Reads of projects and items, always scoped to the user. Every permission check starts here."""
from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from labelstudio_app.accounts.models import Membership
from labelstudio_app.projects.models import Project

Role = Membership.Role
ALL_ROLES = frozenset(Role.values)


def project_roles(*, user, project_id: int) -> frozenset[str]:
    """The roles `user` holds in the project; staff hold every role."""
    if not user.is_authenticated:
        return frozenset()
    if user.is_staff:
        return ALL_ROLES
    return frozenset(Membership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True))


def project_list_for_user(*, user, roles: Iterable[str] | None = None) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_staff:
        return Project.objects.all()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return Project.objects.filter(pk__in=memberships.values("project_id"))


def project_get_for_user(*, user, project_id: int, roles: Iterable[str] | None = None) -> Project:
    """The project if `user` holds one of `roles` in it (any role when None); 404 otherwise, so outsiders
    cannot even learn that it exists."""
    try:
        return project_list_for_user(user=user, roles=roles).get(pk=project_id)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
