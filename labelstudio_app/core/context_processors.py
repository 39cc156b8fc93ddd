from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    """Top navigation by role: everyone sees projects; managers and staff see jobs; staff see admin."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    nav = [(_("Projects"), reverse("home"))]
    if user.is_staff or user.memberships.filter(role="manager").exists():
        nav.append((_("Jobs"), reverse("job-list")))
    nav.append((_("API"), reverse("api-docs")))
    if user.is_staff:
        nav.append((_("Admin"), reverse("admin:index")))
    return {"nav": nav}
