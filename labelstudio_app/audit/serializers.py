from rest_framework import serializers

from labelstudio_app.audit.models import AuditPrediction, AuditRun


class AuditRunSerializer(serializers.ModelSerializer):
    model_versions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    job_state = serializers.CharField(source="job.state", read_only=True, default=None)

    class Meta:
        model = AuditRun
        fields = ["id", "project", "name", "question", "options", "positive_class", "template", "parser", "sampling",
                  "metric", "tolerance", "model_versions", "item_ids", "scope", "snapshot", "scoring", "job", "job_state",
                  "created_at"]
        read_only_fields = fields


class AuditRunCreateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    question = serializers.CharField(max_length=64)
    model_versions = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    positive_class = serializers.CharField(required=False, allow_blank=True, default="")
    template = serializers.CharField(required=False, allow_blank=True, default="")
    keywords = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                     default=dict)
    regex = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    temperature = serializers.FloatField(required=False, default=0.0, min_value=0, max_value=2)
    max_new_tokens = serializers.IntegerField(required=False, default=32, min_value=1, max_value=4096)
    metric = serializers.ChoiceField(choices=AuditRun.Metric.choices, required=False, default=AuditRun.Metric.PRECISION)
    tolerance = serializers.FloatField(required=False, default=0.02, min_value=0, max_value=1)
    scope = serializers.ChoiceField(choices=AuditRun.Scope.choices, required=False, default=AuditRun.Scope.ALL)
    snapshot = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="A dataset snapshot id: its held-out items (scope heldout).")
    scoring = serializers.ChoiceField(choices=AuditRun.Scoring.choices, required=False,
                                      default=AuditRun.Scoring.GENERATE)


class AuditPredictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditPrediction
        fields = ["model_version", "item", "human_value", "predicted_value", "rule", "raw_output", "task_type",
                  "prompt_tokens", "completion_tokens", "latency_ms"]
        read_only_fields = fields


class ReportSerializer(serializers.Serializer):
    """Shape of the metrics document (see labelstudio_app.audit.exports.report_json)."""

    run = serializers.IntegerField()
    metric = serializers.CharField()
    models = serializers.ListField(child=serializers.DictField())
    scaling = serializers.DictField()


class DisagreementSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.CharField())
    items = serializers.ListField(child=serializers.DictField())


class RelabelResultSerializer(serializers.Serializer):
    items = serializers.IntegerField(help_text="Items sent to the relabel / QA queue.")
    annotations = serializers.IntegerField(help_text="Their annotations now waiting for a reviewer.")
