"""Validation and shapes for the labelling API (no business rules)."""
from rest_framework import serializers

from labelstudio_app.labelling.models import Annotation
from labelstudio_app.labelling.services import QA_ACTIONS


class SchemaSerializer(serializers.Serializer):
    label_schema = serializers.ListField(child=serializers.DictField())
    instructions = serializers.CharField(required=False, allow_blank=True)


class TurnSerializer(serializers.Serializer):
    speaker = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    time = serializers.CharField(allow_blank=True)
    target = serializers.BooleanField()


class ItemForLabellingSerializer(serializers.Serializer):
    """What an annotator sees: never the gold flag or the gold answer."""

    id = serializers.IntegerField()
    text = serializers.CharField()
    task_type = serializers.CharField(allow_blank=True)
    conversation = TurnSerializer(many=True)


class NextItemSerializer(serializers.Serializer):
    item = ItemForLabellingSerializer(allow_null=True)
    progress = serializers.DictField(child=serializers.IntegerField())


class AnnotationInSerializer(serializers.Serializer):
    values = serializers.DictField()
    time_spent_ms = serializers.IntegerField(required=False, default=0, min_value=0)


class AnnotationSerializer(serializers.ModelSerializer):
    annotator = serializers.CharField(source="annotator.username", read_only=True)

    class Meta:
        model = Annotation
        fields = ["id", "item", "annotator", "values", "time_spent_ms", "status", "qa_values", "qa_reason",
                  "created_at", "updated_at"]
        read_only_fields = fields


class QaDecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=QA_ACTIONS)
    values = serializers.DictField(required=False)


class QaNextSerializer(serializers.Serializer):
    annotation = AnnotationSerializer(allow_null=True)
    item = ItemForLabellingSerializer(allow_null=True)
    pending = serializers.IntegerField()
