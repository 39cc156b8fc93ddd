"""Input validation and output shapes of the review API. Reviewer-facing shapes carry Left/Right only."""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.projects.models import Item
from labelstudio_app.review.models import ComparisonRound
from labelstudio_app.review.services import PREFERENCES


class CardSerializer(serializers.Serializer):
    """What a reviewer may see: the opaque id, the question, its anonymised context, Left and Right."""

    public_id = serializers.CharField()
    text = serializers.CharField()
    context = serializers.ListField(child=serializers.DictField())
    task_type = serializers.CharField()
    left = serializers.CharField()
    right = serializers.CharField()


class JudgmentInputSerializer(serializers.Serializer):
    left_helpfulness = serializers.IntegerField(min_value=1, max_value=5)
    left_honesty = serializers.IntegerField(min_value=1, max_value=5)
    left_harmlessness = serializers.IntegerField(min_value=1, max_value=5)
    right_helpfulness = serializers.IntegerField(min_value=1, max_value=5)
    right_honesty = serializers.IntegerField(min_value=1, max_value=5)
    right_harmlessness = serializers.IntegerField(min_value=1, max_value=5)
    preference = serializers.ChoiceField(choices=PREFERENCES)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class JudgmentReceiptSerializer(serializers.Serializer):
    """Echoes the reviewer's own Left/Right input; never the A/B mapping."""

    public_id = serializers.CharField()
    preference = serializers.CharField()
    stored = serializers.BooleanField()


class RoundSerializer(serializers.ModelSerializer):
    model_a_name = serializers.CharField(source="model_a.name", read_only=True)
    model_b_name = serializers.SerializerMethodField()
    n_comparisons = serializers.IntegerField(read_only=True)
    n_judgments = serializers.IntegerField(read_only=True)

    class Meta:
        model = ComparisonRound
        fields = ["id", "name", "status", "model_a", "model_a_name", "model_b", "model_b_name", "overlap", "params_hash",
                  "generation_job", "item_ids", "n_gold", "summary", "n_comparisons", "n_judgments", "created_at"]
        read_only_fields = fields

    def get_model_b_name(self, obj) -> str | None:
        return obj.model_b.name if obj.model_b_id else None


class RoundCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    model_a = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.none())
    model_b = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.none(), allow_null=True, required=False,
                                                 help_text=_("Empty: the items' reference answers."))
    item_ids = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                     help_text=_("Ids or external ids (a held-out set). Overrides the filters."))
    task_type = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=[("", "any"), *list(Item.Status.choices)], required=False, default="")
    sample = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)
    overlap = serializers.IntegerField(min_value=1, max_value=20, default=1)
    n_gold = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    generate = serializers.BooleanField(default=False)
    params = serializers.DictField(required=False, allow_null=True, default=None)

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            versions = ModelVersion.objects.filter(project=project)
            self.fields["model_a"].queryset = versions
            self.fields["model_b"].queryset = versions


class FlagSerializer(serializers.Serializer):
    comparison = serializers.IntegerField()
    side = serializers.ChoiceField(choices=["a", "b"])
