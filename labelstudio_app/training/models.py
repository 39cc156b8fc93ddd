from django.conf import settings
from django.db import models


class DatasetSnapshot(models.Model):
    """An immutable, hashed training file. Never edited after creation; training verifies the hash."""

    class Format(models.TextChoices):
        ALPACA = "alpaca"
        SHAREGPT = "sharegpt"
        OPENAI = "openai"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="snapshots")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=16, choices=Format.choices, default=Format.OPENAI)
    path = models.CharField(max_length=500, help_text="Relative to the artifacts dir.")
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField(default=0)
    heldout_item_ids = models.JSONField(default=list, blank=True)
    heldout_path = models.CharField(max_length=500, blank=True,
                                    help_text="The held-out items' rows (the evaluation set), relative to the artifacts dir.")
    heldout_sha256 = models.CharField(max_length=64, blank=True)
    task_type_histogram = models.JSONField(default=dict, blank=True)
    token_count = models.BigIntegerField(null=True, blank=True)
    recipe = models.JSONField(default=dict, blank=True, help_text="Sources, filters, ratios: how it was made.")
    size_bytes = models.BigIntegerField(default=0)
    source_histogram = models.JSONField(default=dict, blank=True, help_text="Rows per source (final, reference, …).")
    tokenizer_model = models.CharField(max_length=500, blank=True, help_text="Whose tokenizer counted the tokens.")
    token_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.row_count} rows, {self.sha256[:8]})"


class TrainingRun(models.Model):
    """A LoRA fine-tune: snapshot + base version + hyper-parameters; its Job carries state and progress."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="training_runs")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="training_run")
    base_version = models.ForeignKey("evaluation.ModelVersion", on_delete=models.PROTECT, related_name="+")
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="training_runs")
    hyperparams = models.JSONField(default=dict)
    loss_history = models.JSONField(default=list, blank=True, help_text="[[step, loss, learning rate], …]")
    eval_loss_history = models.JSONField(default=list, blank=True,
                                         help_text="[[step, loss], …] on the snapshot's held-out rows.")
    heldout_audit = models.ForeignKey("audit.AuditRun", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="Base vs new version on the held-out items.")
    save_merged = models.BooleanField(default=False, help_text="Also save the merged full weights.")
    old_data = models.JSONField(default=dict, blank=True, help_text=(
        "Rows of the parent run's snapshot mixed in when continuing from an adapter: "
        "{snapshot_id, snapshot_sha256, fraction, seed, rows}; empty when none."))
    eta_seconds = models.FloatField(null=True, blank=True)
    result_version = models.ForeignKey("evaluation.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    result_round = models.ForeignKey("review.ComparisonRound", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
