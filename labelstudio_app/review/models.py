import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ComparisonRound(models.Model):
    """Model version A vs B (B empty: the item's reference / human answer) over a set of items."""

    class Status(models.TextChoices):
        GENERATING = "generating", _("Generating answers")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="rounds")
    name = models.CharField(max_length=200)
    model_a = models.ForeignKey("evaluation.ModelVersion", on_delete=models.PROTECT, related_name="+")
    model_b = models.ForeignKey("evaluation.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    overlap = models.PositiveSmallIntegerField(default=1, help_text="Judgments wanted per comparison.")
    params_hash = models.CharField(max_length=64, blank=True, help_text="Which candidates to use (sampling params).")
    generation_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    item_ids = models.JSONField(default=list, blank=True, help_text="The items chosen for the round.")
    n_gold = models.PositiveSmallIntegerField(default=0, help_text="Gold (attention-check) comparisons wanted.")
    summary = models.JSONField(default=dict, blank=True, help_text="What building the comparisons did and skipped.")

    class Meta:
        ordering = ["-created_at", "-id"]


def _public_id() -> str:
    return secrets.token_urlsafe(12)


class Comparison(models.Model):
    """Two answers to one item. Reviewers see only `public_id` and Left/Right, never A/B."""

    round = models.ForeignKey(ComparisonRound, on_delete=models.CASCADE, related_name="comparisons")
    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=32, unique=True, default=_public_id, editable=False)
    candidate_a = models.ForeignKey("evaluation.Candidate", on_delete=models.CASCADE, related_name="+")
    candidate_b = models.ForeignKey("evaluation.Candidate", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                    help_text="Empty: side B is the item's reference answer.")
    left_is_a = models.BooleanField(help_text="Drawn at random once and stored, so a reload keeps the order.")
    is_gold = models.BooleanField(default=False)
    gold_better = models.CharField(max_length=1, blank=True, help_text="'a' or 'b' for gold comparisons.")
    judgments_count = models.PositiveSmallIntegerField(default=0)
    withdrawn = models.BooleanField(default=False, help_text="A side was flagged as revealing its model: out of "
                                                              "the queue and the statistics.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "item"], name="comparison_one_per_item")]
        indexes = [models.Index(fields=["round", "judgments_count", "id"])]


class Judgment(models.Model):
    """One reviewer's verdict on one comparison, stored as A/B (mapped from Left/Right on the server)."""

    class Preference(models.TextChoices):
        A = "a", _("A is better")
        B = "b", _("B is better")
        TIE = "tie", _("Tie")
        BOTH_BAD = "both_bad", _("Both bad")

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="judgments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judgments")
    a_helpfulness = models.PositiveSmallIntegerField()
    a_honesty = models.PositiveSmallIntegerField()
    a_harmlessness = models.PositiveSmallIntegerField()
    b_helpfulness = models.PositiveSmallIntegerField()
    b_honesty = models.PositiveSmallIntegerField()
    b_harmlessness = models.PositiveSmallIntegerField()
    preference = models.CharField(max_length=16, choices=Preference.choices)
    comment = models.TextField(blank=True)
    time_spent_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comparison", "reviewer"], name="judgment_one_per_reviewer")]


class ComparisonClaim(models.Model):
    """A reviewer's hold on one comparison: leased while open, kept once done or skipped so the queue
    never hands the same comparison to the same reviewer twice."""

    class State(models.TextChoices):
        OPEN = "open"
        DONE = "done"
        SKIPPED = "skipped"

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="claims")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comparison", "reviewer"], name="claim_one_per_reviewer")]
        indexes = [models.Index(fields=["comparison", "state", "expires_at"]),
                   models.Index(fields=["reviewer", "state"])]
