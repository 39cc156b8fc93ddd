from django.conf import settings
from django.db import models


class Annotation(models.Model):
    """One annotator's answer to one item. At most one per (item, annotator); re-submitting edits it."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted"
        ACCEPTED = "accepted"
        FIXED = "fixed"
        REJECTED = "rejected"

    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations")
    values = models.JSONField(default=dict)
    time_spent_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    qa_values = models.JSONField(null=True, blank=True, help_text="The reviewer's fixed values.")
    qa_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    qa_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="annotation_one_per_annotator")]
        indexes = [models.Index(fields=["annotator", "-updated_at"])]
