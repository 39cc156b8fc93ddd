"""Input validation for the model registry and generation pages (the rules themselves live in services)."""
import json

from django import forms
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.evaluation.params import FIELDS
from labelstudio_app.projects.models import Item


class ModelVersionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    base_model = forms.CharField(label=_("Base model"), max_length=500,
                                 help_text=_("A folder under the model roots, or a hub id like Qwen/Qwen2.5-0.5B-Instruct."))
    adapter_path = forms.CharField(label=_("LoRA adapter folder"), max_length=500, required=False)
    parent = forms.ModelChoiceField(label=_("Parent version"), queryset=ModelVersion.objects.none(), required=False)
    backend = forms.ChoiceField(label=_("Backend"), choices=ModelVersion.Backend.choices)
    backend_options = forms.CharField(label=_("Backend options (JSON)"), required=False, widget=forms.Textarea(
        attrs={"rows": 3, "placeholder": '{"endpoint": "gpu1", "model": "qwen2.5-7b"}'}),
        help_text=_("openai backend: pick an endpoint by name from the list admins manage; a wrong name "
                    "lists them."))
    parameter_count = forms.IntegerField(label=_("Parameter count"), required=False, min_value=0,
                                         help_text=_("Read from the weights when left empty."))
    trust_remote_code = forms.BooleanField(label=_("Trust remote code (admins only)"), required=False)

    def __init__(self, *args, project, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = ModelVersion.objects.filter(project=project).order_by("name")
        if not R.is_admin(user):
            del self.fields["trust_remote_code"]

    def clean_backend_options(self):
        raw = (self.cleaned_data.get("backend_options") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Expected a JSON object."))
        return value


class GenerationForm(forms.Form):
    model_versions = forms.ModelMultipleChoiceField(label=_("Model versions"), queryset=ModelVersion.objects.none(),
                                                    widget=forms.CheckboxSelectMultiple)
    task_type = forms.ChoiceField(label=_("Task type"), required=False)
    status = forms.ChoiceField(label=_("Item status"), required=False,
                               choices=[("", _("any")), *list(Item.Status.choices)])
    item_ids = forms.CharField(label=_("Or these item ids"), required=False,
                               help_text=_("Comma-separated; overrides the filters."))
    n_samples = forms.IntegerField(label=_("Samples per item"), min_value=1, max_value=32, initial=1)
    temperature = forms.FloatField(label="temperature", initial=FIELDS["temperature"][1], min_value=0)
    top_p = forms.FloatField(label="top_p", initial=FIELDS["top_p"][1], min_value=0, max_value=1)
    top_k = forms.IntegerField(label="top_k", initial=FIELDS["top_k"][1], min_value=0)
    repetition_penalty = forms.FloatField(label="repetition_penalty", initial=FIELDS["repetition_penalty"][1])
    no_repeat_ngram_size = forms.IntegerField(label="no_repeat_ngram_size", initial=0, min_value=0)
    max_new_tokens = forms.IntegerField(label="max_new_tokens", initial=FIELDS["max_new_tokens"][1], min_value=1)
    seed = forms.IntegerField(label="seed", required=False, min_value=0)

    PARAMS = ("temperature", "top_p", "top_k", "repetition_penalty", "no_repeat_ngram_size", "max_new_tokens", "seed")

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_versions"].queryset = ModelVersion.objects.filter(project=project).order_by("id")
        task_types = (Item.objects.filter(project=project).exclude(task_type="").order_by("task_type")
                      .values_list("task_type", flat=True).distinct())
        self.fields["task_type"].choices = [("", _("any"))] + [(t, t) for t in task_types]

    def clean_item_ids(self):
        raw = (self.cleaned_data.get("item_ids") or "").replace("，", ",").strip()
        if not raw:
            return []
        ids = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            if not part.isdigit():
                raise forms.ValidationError(_("%(value)r is not an item id.") % {"value": part})
            ids.append(int(part))
        return ids

    def items_spec(self):
        d = self.cleaned_data
        if d["item_ids"]:
            return d["item_ids"]
        return {"task_type": d.get("task_type") or None, "status": d.get("status") or None, "all": True}

    def sampling(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.PARAMS}


class ServingReasonForm(forms.Form):
    """A forced promotion's reason (required by the service) or a rollback's (optional)."""

    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ServingForceForm(ServingReasonForm):
    reason = forms.CharField(label=_("Why force it (required, recorded with your name)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
