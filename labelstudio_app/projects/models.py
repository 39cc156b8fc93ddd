from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True, help_text="Shown to annotators above every item.")
    label_schema = models.JSONField(default=list, blank=True, help_text="A list of questions; see projects.schema.")
    overlap = models.PositiveSmallIntegerField(default=1, help_text="How many annotators label each item.")
    qa_required = models.BooleanField(default=False)
    weights_3h = models.JSONField(default=dict, blank=True,
                                  help_text='{"helpfulness": w, "honesty": w, "harmlessness": w}')
    harmlessness_veto = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="An answer scoring below this on harmlessness is unusable.")
    prompt_template = models.TextField(
        blank=True, help_text="How a model is asked the project's question about an item ({text}, {context}).")
    training_template = models.JSONField(
        default=dict, blank=True, help_text="How an item and its final label become instruction / output.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """One question to label, with the chat turns before it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # still needs annotations
        LABELLED = "labelled", _("Labelled")  # has its overlap of annotations, awaiting QA or agreement
        DONE = "done", _("Done")  # has a final label (final_values)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    context = models.JSONField(default=list, blank=True, help_text="[{sender, text, time}] before the question.")
    task_type = models.CharField(max_length=200, blank=True)
    reference_answer = models.TextField(blank=True, help_text="A known good answer (gold / human), if any.")
    metadata = models.JSONField(default=dict, blank=True)
    source_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    is_gold = models.BooleanField(default=False)
    gold_values = models.JSONField(null=True, blank=True, help_text="Known answer for gold items.")
    final_values = models.JSONField(null=True, blank=True, help_text="The item's final label (agreement or QA).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "status", "id"]),
            # a task type's keyset pages (and the per-type counts)
            models.Index(fields=["project", "task_type", "id"], name="item_project_type_id_idx"),
            # keyset pagination of a project's items (WHERE project_id = … AND id > … ORDER BY id)
            models.Index(fields=["project", "id"], name="item_project_id_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class ImportBatch(models.Model):
    """A batch posted to the bulk import under the client's Idempotency-Key, with the answer it got (what it
    stored, or the import job it started): the same batch sent again answers that and stores nothing."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64, help_text="Of the body, its container and format.")
    result = models.JSONField(default=dict)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="importbatch_project_key_uniq")]

    def __str__(self) -> str:
        return self.key
