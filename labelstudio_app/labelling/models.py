from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Annotation(models.Model):
    """One annotator's answer to one item. At most one per (item, annotator); re-submitting edits it."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        FIXED = "fixed", _("Fixed in QA")
        REJECTED = "rejected", _("Rejected")

    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations")
    values = models.JSONField(default=dict)
    time_spent_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    qa_values = models.JSONField(null=True, blank=True, help_text="The reviewer's fixed values.")
    qa_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    qa_at = models.DateTimeField(null=True, blank=True)
    qa_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="Sent back to QA (e.g. by the label audit); cleared by the QA decision.")
    qa_reason = models.CharField(max_length=500, blank=True, help_text="Why it was sent to QA.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="annotation_one_per_annotator")]
        indexes = [
            models.Index(fields=["annotator", "-updated_at"]),
            # The QA queue: annotations still waiting for a reviewer.
            models.Index(fields=["item"], condition=Q(status="submitted"), name="annotation_pending_qa"),
        ]


class Assignment(models.Model):
    """Queue state of one item for one annotator: a lease, a skip, or a submitted annotation.

    The number of live rows of an item (leased and not expired, or submitted) is what the overlap caps.
    At most one row per (item, annotator), so an item is never handed twice to one annotator.
    """

    class State(models.TextChoices):
        LEASED = "leased", _("Leased")
        SUBMITTED = "submitted", _("Submitted")
        SKIPPED = "skipped", _("Skipped")
        EXPIRED = "expired", _("Expired")
        REJECTED = "rejected", _("Rejected")  # QA rejected the annotation: the slot is free again, not for this annotator

    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    state = models.CharField(max_length=16, choices=State.choices, default=State.LEASED)
    leased_at = models.DateTimeField()
    leased_until = models.DateTimeField()
    skipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="assignment_one_per_annotator")]
        indexes = [
            # live count of an item (overlap check) and "has this annotator seen it"
            models.Index(fields=["item", "state"], name="assignment_item_state"),
            # expiring leases of a project; the annotator's own live lease
            models.Index(fields=["project", "leased_until"], condition=Q(state="leased"), name="assignment_leases"),
            models.Index(fields=["annotator", "project", "state"], name="assignment_annotator"),
        ]
