"""API input validation only: the same recipe and hyper-parameter checks as the forms (via the services)."""
from rest_framework import serializers

from labelstudio_app.training.hyperparams import DEFAULTS
from labelstudio_app.training.models import DatasetSnapshot, TrainingRun


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = DatasetSnapshot
        fields = ["id", "project", "name", "format", "sha256", "row_count", "size_bytes", "heldout_item_ids",
                  "task_type_histogram", "source_histogram", "token_count", "tokenizer_model", "token_job", "recipe",
                  "created_at"]
        read_only_fields = fields


class SnapshotCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    recipe = serializers.JSONField(required=False, help_text="See docs/training.md: format, sources, ratios, "
                                   "task_types, task_type_upsample, date_from, date_to, heldout, seed.")
    tokenizer_version = serializers.IntegerField(required=False, allow_null=True,
                                                 help_text="Model version whose tokenizer counts the tokens.")


class TrainingRunSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="job.state", read_only=True)
    step = serializers.IntegerField(source="job.progress_done", read_only=True)
    total_steps = serializers.IntegerField(source="job.progress_total", read_only=True)
    error = serializers.CharField(source="job.error", read_only=True)

    class Meta:
        model = TrainingRun
        fields = ["id", "project", "job", "state", "step", "total_steps", "eta_seconds", "error", "base_version",
                  "snapshot", "hyperparams", "save_merged", "old_data", "loss_history", "eval_loss_history",
                  "result_version", "result_round", "heldout_audit", "created_at"]
        read_only_fields = fields


class TrainingRunCreateSerializer(serializers.Serializer):
    base_version = serializers.IntegerField()
    snapshot = serializers.IntegerField()
    hyperparams = serializers.DictField(required=False, help_text=f"Defaults: {DEFAULTS}")
    save_merged = serializers.BooleanField(required=False, default=False)
    old_data_fraction = serializers.FloatField(
        required=False, default=0.0, help_text="Continuing from an adapter: share (0-1) of the parent run's "
                                               "snapshot rows mixed in, drawn with the seed.")
    heldout_scoring = serializers.ChoiceField(choices=["generate", "likelihood"], required=False, default="generate",
                                              help_text="How the automatic held-out audit scores answers.")
