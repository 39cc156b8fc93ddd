from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Membership(models.Model):
    """A user's role in one project. Django staff are admins everywhere and need no membership."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        ANNOTATOR = "annotator", _("Annotator")
        REVIEWER = "reviewer", _("Reviewer")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project", "role"], name="membership_unique_role")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.project_id}"
