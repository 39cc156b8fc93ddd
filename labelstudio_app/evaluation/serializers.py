"""API input and output shapes for model versions, generation jobs and candidates (validation only)."""
from rest_framework import serializers

from labelstudio_app.evaluation.models import Candidate, ModelVersion, ServingChange
from labelstudio_app.jobs.serializers import JobSerializer


class ModelVersionSerializer(serializers.ModelSerializer):
    candidates_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = ModelVersion
        fields = ["id", "project", "name", "base_model", "adapter_path", "parent", "parameter_count", "backend",
                  "backend_options", "trust_remote_code", "metadata", "created_at", "candidates_count"]
        read_only_fields = fields


class ModelVersionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    base_model = serializers.CharField(max_length=500)
    adapter_path = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    parent = serializers.IntegerField(required=False, allow_null=True, default=None)
    backend = serializers.ChoiceField(choices=ModelVersion.Backend.choices, default="transformers")
    backend_options = serializers.DictField(required=False, default=dict)
    parameter_count = serializers.IntegerField(required=False, allow_null=True, min_value=0, default=None)
    trust_remote_code = serializers.BooleanField(required=False, default=False)
    metadata = serializers.DictField(required=False, default=dict)


class ModelVersionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    parent = serializers.IntegerField(required=False, allow_null=True)
    backend_options = serializers.DictField(required=False)
    trust_remote_code = serializers.BooleanField(required=False)
    metadata = serializers.DictField(required=False)


class GenerationJobCreateSerializer(serializers.Serializer):
    model_version_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    item_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    item_filter = serializers.DictField(required=False, help_text='{"task_type": ..., "status": ..., "all": true}')
    n_samples = serializers.IntegerField(default=1)
    params = serializers.DictField(required=False, default=dict)
    batch_size = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if not attrs.get("item_ids") and not attrs.get("item_filter"):
            raise serializers.ValidationError({"item_ids": "Give item_ids or an item_filter ({\"all\": true})."})
        return attrs


class GenerationJobSerializer(JobSerializer):
    pass


class CandidateSerializer(serializers.ModelSerializer):
    model_version_name = serializers.CharField(source="model_version.name", read_only=True)

    class Meta:
        model = Candidate
        fields = ["id", "item", "model_version", "model_version_name", "sample_index", "params_hash", "params",
                  "text", "prompt_tokens", "completion_tokens", "latency_ms", "finish_reason", "excluded", "job",
                  "created_at"]
        read_only_fields = fields


class GateCheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    passed = serializers.BooleanField()
    why = serializers.CharField()


class GateVerdictSerializer(serializers.Serializer):
    """The gate's verdict (evaluation/gate.py): passed, each check with why, and the numbers it used."""

    version = serializers.IntegerField()
    passed = serializers.BooleanField()
    checks = GateCheckSerializer(many=True)
    parent = serializers.DictField(allow_null=True)
    rounds = serializers.ListField(child=serializers.DictField())
    min_judgments = serializers.IntegerField()
    judgments = serializers.IntegerField()
    win_rate = serializers.DictField(allow_null=True)
    task_types = serializers.ListField(child=serializers.DictField())
    dimensions = serializers.ListField(child=serializers.DictField())
    heldout = serializers.DictField(allow_null=True)


class ServingChangeSerializer(serializers.ModelSerializer):
    model_version_name = serializers.CharField(source="model_version.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = ServingChange
        fields = ["id", "action", "model_version", "model_version_name", "previous", "reason", "verdict",
                  "created_by", "created_at"]
        read_only_fields = fields


class ServingSerializer(serializers.Serializer):
    """The project's serving alias: the version it names (null before the first promotion) and the history."""

    serving = ModelVersionSerializer(allow_null=True)
    change = ServingChangeSerializer(allow_null=True)
    history = ServingChangeSerializer(many=True)


class ServingReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="Why: required to force a promotion, optional for a rollback.")
