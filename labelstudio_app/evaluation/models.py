from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundEndpoint(models.Model):
    """An OpenAI-compatible server the worker may call, and the environment variable holding its key.
    Staff manage these (Django admin, seeded from FLYWHEEL_OUTBOUND_ENDPOINTS); managers pick one by name."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    base_url = models.CharField(_("base URL"), max_length=500, help_text=_("e.g. http://gpu1:8000/v1"))
    api_key_env = models.CharField(_("API key variable"), max_length=100, blank=True,
                                   help_text=_("The NAME of an environment variable on the worker holding the key."))
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from labelstudio_app.evaluation.outbound import base_url_check, key_env_check

        self.base_url = base_url_check(self.base_url)
        self.api_key_env = key_env_check(self.api_key_env)


class ModelVersion(models.Model):
    """A base model and optionally a LoRA adapter on it, served by one backend."""

    class Backend(models.TextChoices):
        TRANSFORMERS = "transformers", _("transformers (in the worker)")
        VLLM = "vllm", _("vLLM (in the worker)")
        OPENAI = "openai", _("OpenAI-compatible server")

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="model_versions")
    name = models.CharField(max_length=200)
    base_model = models.CharField(max_length=500, help_text="A local path under the model roots, or a hub id.")
    adapter_path = models.CharField(max_length=500, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parameter_count = models.BigIntegerField(null=True, blank=True)
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.TRANSFORMERS)
    backend_options = models.JSONField(default=dict, blank=True, help_text="e.g. base_url and model for openai.")
    trust_remote_code = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    template_ok = models.BooleanField(
        _("chat template can be masked"), null=True, blank=True,
        help_text=_("Set by a worker's check at registration; empty while unchecked (remote or hub models)."))
    template_error = models.TextField(_("chat template problem"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="model_version_unique_name")]

    def __str__(self) -> str:
        return self.name


class Candidate(models.Model):
    """One answer a model version wrote for one item. The natural key makes re-runs fill gaps only."""

    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="candidates")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="candidates")
    sample_index = models.PositiveSmallIntegerField(default=0)
    params_hash = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    prompt_sha256 = models.CharField(max_length=64, blank=True,
                                     help_text="The prompt it was asked (projects.sft.prompt_sha256): part of its identity.")
    text = models.TextField()
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    finish_reason = models.CharField(max_length=32, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    excluded = models.BooleanField(default=False, help_text="Flagged (e.g. reveals its model) and kept out of review.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "model_version", "sample_index", "params_hash", "prompt_sha256"],
                                    name="candidate_natural_key"),
        ]
        indexes = [models.Index(fields=["model_version", "item"])]


class ServingChange(models.Model):
    """One change of a project's serving version: a promotion through the gate, a forced one, or a rollback.
    The project's serving version is the one its latest change names (so there is at most one); the rows are
    never edited, so they are also the history the version page shows."""

    class Action(models.TextChoices):
        PROMOTE = "promote", _("Promoted (passed the gate)")
        FORCE = "force", _("Forced past the gate")
        ROLLBACK = "rollback", _("Rolled back")

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="serving_changes")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="serving_changes")
    previous = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="The version a rollback from this one returns to.")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.TextField(blank=True)
    verdict = models.JSONField(default=dict, blank=True, help_text="The gate's verdict and numbers at the time.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"])]
