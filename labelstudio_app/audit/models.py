from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRun(models.Model):
    """One label audit: a family of model versions answers one single-choice question about labelled items."""

    class Metric(models.TextChoices):
        PRECISION = "precision", _("Precision")
        RECALL = "recall", _("Recall")
        F1 = "f1", _("F1")
        ACCURACY = "accuracy", _("Accuracy")

    class Scope(models.TextChoices):
        ALL = "all", _("All labelled items")
        HELDOUT = "heldout", _("A snapshot's held-out items")

    class Scoring(models.TextChoices):
        GENERATE = "generate", _("Generate an answer and parse it")
        LIKELIHOOD = "likelihood", _("The option with the highest log-likelihood")

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="audit_runs")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200, blank=True)
    question = models.CharField(max_length=64, help_text="The schema question (single choice) the models answer.")
    options = models.JSONField(default=list, help_text="The question's options when the run was made.")
    positive_class = models.CharField(max_length=200, blank=True)
    template = models.TextField(blank=True, help_text="Prompt template; empty means the project's prompt_template.")
    parser = models.JSONField(default=dict, blank=True, help_text='{"keywords": {value: [...]}, "regex": "..."}')
    sampling = models.JSONField(default=dict, blank=True, help_text="temperature, max_new_tokens, ...")
    metric = models.CharField(max_length=16, choices=Metric.choices, default=Metric.PRECISION,
                              help_text="The number the scaling check plots against size.")
    tolerance = models.FloatField(default=0.02, help_text="How much worse a larger model may be before it is flagged.")
    model_versions = models.ManyToManyField("evaluation.ModelVersion", related_name="audit_runs")
    item_ids = models.JSONField(default=list, help_text="The labelled items chosen when the run was made.")
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ALL)
    snapshot = models.ForeignKey("training.DatasetSnapshot", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="Whose held-out items (scope heldout).")
    scoring = models.CharField(max_length=16, choices=Scoring.choices, default=Scoring.GENERATE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self) -> str:
        return self.name or f"audit #{self.pk}"


class AuditPrediction(models.Model):
    """One model version's answer to one item in one run; the natural key makes a redelivered job fill gaps only."""

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey("evaluation.ModelVersion", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="+")
    human_value = models.CharField(max_length=200, help_text="The item's final label when it was asked.")
    predicted_value = models.CharField(max_length=200, null=True, blank=True, help_text="None: unparseable.")
    rule = models.CharField(max_length=16, blank=True, help_text="Which parser rule decided.")
    raw_output = models.TextField(blank=True)
    task_type = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["run", "model_version", "item"], name="audit_prediction_key")]
        indexes = [models.Index(fields=["run", "item"])]
