"""Template context every page gets: the top navigation, by role."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.projects.selectors import project_list_for_user


def navigation(request):
    """Top navigation by role: everyone sees projects; managers and staff see jobs; staff see admin."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    nav = [(_("Projects"), reverse("home"))]
    if R.is_admin(user) or project_list_for_user(user=user, roles=R.MANAGERS).exists():
        nav.append((_("Jobs"), reverse("job-list")))
    nav.append((_("API"), reverse("api-docs")))
    if R.is_admin(user):
        nav.append((_("Admin"), reverse("admin:index")))
    return {"nav": nav}
