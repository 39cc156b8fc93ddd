"""Forms for the project pages: input validation only."""
import json

from django import forms
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts.models import Membership
from labelstudio_app.projects.exports import EXPORT_FORMATS
from labelstudio_app.projects.importers import FORMATS, LABELSTUDIO_FORMATS
from labelstudio_app.projects.models import Project
from labelstudio_app.projects.validation import WEIGHT_KEYS, clean_training_template, clean_weights_3h

FORMAT_LABELS = {
    "auto": _("Detect from the file"), "items": _("Items (JSONL / JSON / CSV)"), "alpaca": _("Alpaca"),
    "sharegpt": _("ShareGPT"), "openai": _("OpenAI chat"), "labelstudio": _("Label Studio JSON export"),
    "labelstudio_min": _("Label Studio JSON-MIN export"), "labelstudio_csv": _("Label Studio CSV export"),
    "chatlog": _("Group-chat log"),
    "preference": _("Preference pairs (prompt, chosen, rejected)"),
}
EXPORT_LABELS = {"jsonl": _("Items with final labels (JSONL)"), "csv": _("Items with final labels (CSV)"),
                 "alpaca": _("SFT: alpaca JSON"), "sharegpt": _("SFT: ShareGPT JSONL"),
                 "openai": _("SFT: OpenAI chat JSONL")}


class JSONTextField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 6, "class": "mono"})

    def prepare_value(self, value):
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value or not value.strip():
            return {}
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Invalid JSON: %(msg)s (line %(line)s)") % {"msg": exc.msg,
                                                                                      "line": exc.lineno}) from None


class ProjectForm(forms.ModelForm):
    helpfulness = forms.FloatField(label=_("Helpfulness weight"), min_value=0, max_value=100, required=False)
    honesty = forms.FloatField(label=_("Honesty weight"), min_value=0, max_value=100, required=False)
    harmlessness = forms.FloatField(label=_("Harmlessness weight"), min_value=0, max_value=100, required=False)
    training_template = JSONTextField(label=_("Training template (JSON)"), required=False)

    class Meta:
        model = Project
        fields = ["name", "description", "instructions", "overlap", "qa_required", "harmlessness_veto",
                  "prompt_template", "training_template"]
        labels = {"name": _("Name"), "description": _("Description"), "instructions": _("Instructions"),
                  "overlap": _("Overlap (annotators per item)"), "qa_required": _("QA review required"),
                  "harmlessness_veto": _("Harmlessness veto (below this score an answer is unusable)"),
                  "prompt_template": _("Prompt template")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        weights = self.instance.weights_3h or {}
        for key in WEIGHT_KEYS:
            self.fields[key].initial = weights.get(key)

    def clean_overlap(self):
        value = self.cleaned_data["overlap"]
        if not value or value < 1 or value > 50:
            raise forms.ValidationError(_("Overlap must be between 1 and 50."))
        return value

    def clean_training_template(self):
        return clean_training_template(self.cleaned_data.get("training_template"),
                                       schema=self.instance.label_schema or None)

    def clean(self):
        data = super().clean()
        weights = {k: data[k] for k in WEIGHT_KEYS if data.get(k) is not None}
        try:
            data["weights_3h"] = clean_weights_3h(weights)
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        return data

    def changes(self) -> dict:
        data = self.cleaned_data
        out = {k: data[k] for k in self.Meta.fields if k in data}
        out["weights_3h"] = data.get("weights_3h", {})
        return out


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"))
    format = forms.ChoiceField(label=_("Format"), choices=[(f, FORMAT_LABELS[f]) for f in FORMATS], initial="auto")
    window_seconds = forms.IntegerField(label=_("Join a sender's messages within (seconds)"), min_value=0,
                                        initial=60, required=False)
    context_turns = forms.IntegerField(label=_("Context turns kept"), min_value=0, max_value=100, initial=5,
                                       required=False)
    min_chars = forms.IntegerField(label=_("Minimum length (characters)"), min_value=0, initial=4, required=False)
    max_chars = forms.IntegerField(label=_("Maximum length (characters)"), min_value=0, initial=500, required=False)
    require_question = forms.BooleanField(label=_("Keep only questions"), initial=True, required=False)
    dedupe = forms.BooleanField(label=_("Drop exact duplicates"), initial=True, required=False)
    layout = forms.ChoiceField(label=_("Chat-log layout"), initial="auto", required=False, choices=[
        ("auto", _("Detect")), ("one_line", _("One line: time sender: text")),
        ("two_line", _("Two lines: a header with time and sender, then the message"))])
    mapping = JSONTextField(
        label=_("Label Studio mapping (JSON)"), required=False,
        help_text=_('Which question each Label Studio control fills: {"control": "question"}, or null to ignore '
                    'a control. A control without an entry fills the question of the same name.'))

    def import_options(self) -> dict:
        """The chat-log options and, for a Label Studio export, the control -> question mapping."""
        out = self.chat_options()
        if self.cleaned_data["format"] in ("auto", *LABELSTUDIO_FORMATS) and self.cleaned_data.get("mapping"):
            out["mapping"] = self.cleaned_data["mapping"]
        return out

    def chat_options(self) -> dict:
        d = self.cleaned_data
        if d["format"] not in ("auto", "chatlog"):
            return {}
        out = {k: d[k] for k in ("window_seconds", "context_turns", "min_chars", "max_chars") if d.get(k) is not None}
        out.update(require_question=d.get("require_question", False), dedupe=d.get("dedupe", False))
        if d.get("layout"):
            out["layout"] = d["layout"]
        return out


class ImportStartForm(forms.Form):
    token = forms.RegexField(regex=r"^[0-9a-f]{32}$")
    format = forms.ChoiceField(choices=[(f, f) for f in FORMATS])
    options = forms.CharField(required=False)


MAP_PREFIX = "map:"  # one select per Label Studio control on the preview: "map:<control>" -> question, "" ignores


class ImportRemapForm(ImportStartForm):
    """The preview's mapping table, sent back to preview the saved upload again with the changed mapping."""

    def options_with_mapping(self) -> dict:
        try:
            options = json.loads(self.cleaned_data["options"] or "{}")
        except json.JSONDecodeError:
            options = {}
        options = options if isinstance(options, dict) else {}
        mapping = dict(options.get("mapping") or {})
        for key, value in self.data.items():
            if key.startswith(MAP_PREFIX) and len(key) > len(MAP_PREFIX):
                mapping[key[len(MAP_PREFIX):]] = value or None
        return {**options, "mapping": mapping} if mapping else options


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=[(f, EXPORT_LABELS[f]) for f in EXPORT_FORMATS])
    scope = forms.ChoiceField(label=_("Items"), choices=[("labelled", _("With a final label")),
                                                         ("all", _("All items"))], initial="labelled")
    container = forms.ChoiceField(label=_("File"), initial="native", required=False, choices=[
        ("native", _("The format's own file (JSONL, CSV or JSON)")), ("parquet", _("Parquet")),
        ("hf", _("Hugging Face datasets folder, zipped (datasets.load_from_disk)"))])
