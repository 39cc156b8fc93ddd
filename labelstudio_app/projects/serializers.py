"""REST serializers for projects, members, items, imports and exports: input validation only."""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.serializers import JobSerializer
from labelstudio_app.projects.chat import item_conversation
from labelstudio_app.projects.exports import CONTAINERS, EXPORT_FORMATS, SCOPES
from labelstudio_app.projects.importers import FORMATS
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.validation import clean_training_template, clean_weights_3h


def _drf(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "description", "instructions", "label_schema", "overlap", "qa_required",
                  "weights_3h", "harmlessness_veto", "prompt_template", "training_template", "created_at"]
        read_only_fields = ["id", "label_schema", "created_at"]  # the label schema has its own endpoint

    def validate_overlap(self, value):
        if not 1 <= value <= 50:
            raise serializers.ValidationError("overlap must be between 1 and 50")
        return value

    def validate_weights_3h(self, value):
        return _drf(clean_weights_3h, value)

    def validate_training_template(self, value):
        schema = self.instance.label_schema if self.instance else None
        return _drf(clean_training_template, value, schema=schema or None)


class ProjectCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    labelled = serializers.IntegerField()
    done = serializers.IntegerField()
    by_task_type = serializers.ListField(child=serializers.DictField())


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["id", "username", "created_at"]


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class ItemListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "external_id", "text", "task_type", "status", "is_gold"]
        read_only_fields = fields
        extra_kwargs = {"is_gold": {"help_text": "Only for readers of the answer key (managers)."}}


class ItemBlindSerializer(serializers.ModelSerializer):
    """An item for readers without the answer key (reviewers): the question and its context, nothing that
    would unblind a review card (reference answer, gold flag or answer, final label, imported metadata)."""

    conversation = serializers.SerializerMethodField(help_text="Context + the item, senders anonymised A, B, C…")

    class Meta:
        model = Item
        fields = ["id", "external_id", "text", "context", "conversation", "task_type", "status", "created_at"]
        read_only_fields = fields

    def get_conversation(self, item) -> list[dict]:
        return item_conversation(item)


class ItemSerializer(serializers.ModelSerializer):
    conversation = serializers.SerializerMethodField(help_text="Context + the item, senders anonymised A, B, C…")

    class Meta:
        model = Item
        fields = ["id", "external_id", "text", "context", "conversation", "task_type", "reference_answer",
                  "metadata", "status", "is_gold", "final_values", "source_job", "created_at"]
        read_only_fields = fields

    def get_conversation(self, item) -> list[dict]:
        return item_conversation(item)


class ItemPageSerializer(serializers.Serializer):
    """One keyset page (documentation only: the view writes the selector's rows as they are). Readers without
    the answer key get rows without `is_gold`."""

    results = ItemListSerializer(many=True)
    next_after = serializers.IntegerField(allow_null=True, help_text="Pass as ?after= for the next page; "
                                                                     "null on the last page.")
    prev_before = serializers.IntegerField(allow_null=True, help_text="Pass as ?before= for the previous page; "
                                                                      "null on the first page.")


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=FORMATS, default="auto")
    options = serializers.JSONField(required=False, default=dict,
                                    help_text="Chat-log options: window_seconds, context_turns, min_chars, "
                                              "max_chars, require_question, dedupe, layout (auto / one_line / two_line). "
                                              "Label Studio exports: mapping {\"control\": \"question\" or null}.")


class ImportPreviewSerializer(serializers.Serializer):
    format = serializers.CharField()
    container = serializers.CharField()
    rows = serializers.ListField(child=serializers.DictField())
    report = serializers.DictField()


class ExportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS)
    scope = serializers.ChoiceField(choices=SCOPES, default="labelled")
    container = serializers.ChoiceField(choices=CONTAINERS, default="native",
                                        help_text="native: the format's own file; parquet; hf: a zipped "
                                                  "Hugging Face datasets folder (load_from_disk)")


class ImportBulkResultSerializer(serializers.Serializer):
    """The bulk import's answer: what was stored (synchronous), or the job that imports it (202)."""

    batch_key = serializers.CharField(allow_null=True, help_text="The Idempotency-Key sent, if any.")
    replayed = serializers.BooleanField(help_text="True when this answers a batch already received under the key.")
    stored = serializers.IntegerField(help_text="Items stored by this batch (0 when it became a job).")
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="The new items' ids, in the body's order.")
    first_id = serializers.IntegerField(allow_null=True)
    last_id = serializers.IntegerField(allow_null=True)
    dropped = serializers.DictField(child=serializers.IntegerField(), help_text="Records left out, by rule.")
    format = serializers.CharField()
    job = JobSerializer(allow_null=True, help_text="The import job of a batch over the synchronous limits.")
