"""Input validation only: the recipe and the hyper-parameters are checked by the same functions the API uses."""
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from labelstudio_app.core.http import form_add_errors
from labelstudio_app.projects.sft import SFT_FORMATS
from labelstudio_app.training.hyperparams import DEFAULTS, HYPERPARAM_FIELDS
from labelstudio_app.training.services import training_hyperparams_clean, training_hyperparams_defaults
from labelstudio_app.training.snapshots import SOURCES, recipe_clean

SOURCE_LABELS = {"final": _("Final labels (training template)"), "reference": _("Gold / reference answers"),
                 "winners": _("Winners of blind comparisons")}


def _pairs(text: str, field: str) -> dict:
    """`a=2, b=0.5` (or one per line) -> {"a": "2", "b": "0.5"}."""
    out = {}
    for part in (text or "").replace("\n", ",").split(","):
        if part.strip():
            if "=" not in part:
                raise ValidationError({field: _("Write name=number, e.g. short-answer=3 (got %(p)r).") % {"p": part}})
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


class SnapshotForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    format = forms.ChoiceField(label=_("Format"), choices=[(f, f) for f in SFT_FORMATS], initial="openai")
    sources = forms.MultipleChoiceField(label=_("Sources"), choices=[(s, SOURCE_LABELS[s]) for s in SOURCES],
                                        initial=["final"], widget=forms.CheckboxSelectMultiple)
    upsample = forms.CharField(label=_("Upsampling per source"), required=False,
                               help_text=_("e.g. reference=2, winners=0.5"))
    ratios = forms.CharField(label=_("Ratios between sources"), required=False, help_text=_("e.g. final=2, reference=1"))
    task_types = forms.CharField(label=_("Task types"), required=False,
                                 help_text=_("Comma separated; a top level such as 'reasoning' takes its subtypes."))
    task_type_upsample = forms.CharField(label=_("Upsampling per task type"), required=False,
                                         help_text=_("e.g. short-answer=3"))
    date_from = forms.DateField(label=_("Items created from"), required=False)
    date_to = forms.DateField(label=_("Items created until"), required=False)
    heldout_fraction = forms.FloatField(label=_("Held-out fraction"), required=False, initial=0.1)
    heldout_n = forms.IntegerField(label=_("…or held-out items"), required=False)
    seed = forms.IntegerField(label=_("Seed"), initial=0)
    tokenizer_version = forms.ModelChoiceField(label=_("Count tokens with the tokenizer of"), queryset=None,
                                               required=False)

    def __init__(self, *args, model_versions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tokenizer_version"].queryset = model_versions
        self.fields["name"].initial = _("Snapshot of %(date)s") % {"date": timezone.localtime().strftime("%Y-%m-%d %H:%M")}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            upsample = _pairs(data.get("upsample"), "upsample")
            heldout = ({"n": data["heldout_n"]} if data.get("heldout_n") is not None
                       else {"fraction": data["heldout_fraction"]} if data.get("heldout_fraction") else {})
            recipe = {
                "format": data["format"], "sources": {s: {"upsample": upsample.get(s, 1)} for s in data["sources"]},
                "ratios": _pairs(data.get("ratios"), "ratios"),
                "task_types": [t for t in (data.get("task_types") or "").split(",") if t.strip()],
                "task_type_upsample": _pairs(data.get("task_type_upsample"), "task_type_upsample"),
                "date_from": data.get("date_from") and data["date_from"].isoformat(),
                "date_to": data.get("date_to") and data["date_to"].isoformat(), "heldout": heldout,
                "seed": data["seed"],
            }
            data["recipe"] = recipe_clean(recipe)
        except ValidationError as exc:
            form_add_errors(self, exc, fields={"heldout": "heldout_fraction", "sources": "upsample",
                                               **{name: name for name in self.fields}})
        return data


class TrainingForm(forms.Form):
    base_version = forms.ModelChoiceField(label=_("Base model version (or an adapter version to continue from)"),
                                          queryset=None)
    snapshot = forms.ModelChoiceField(label=_("Snapshot"), queryset=None)
    save_merged = forms.BooleanField(label=_("Also save merged weights"), required=False)
    old_data_fraction = forms.FloatField(
        label=_("Old data mixed in"), required=False, initial=0, min_value=0, max_value=1,
        help_text=_("When continuing from an adapter: the share (0–1) of the parent run's snapshot rows added to "
                    "the new rows, drawn with the seed, so the new adapter does not forget what the old one learned."))

    def __init__(self, *args, model_versions=None, snapshots=None, base_version=None, **kwargs):
        """`base_version`: the version the defaults are proposed for (the page's selection, else the first)."""
        super().__init__(*args, **kwargs)
        self.fields["base_version"].queryset = model_versions
        self.fields["snapshot"].queryset = snapshots
        newest = snapshots.order_by("-id").first() if snapshots is not None else None
        self.fields["snapshot"].initial = newest.pk if newest else None
        if base_version is None and model_versions is not None:
            base_version = model_versions.first()
        if base_version is not None:
            self.fields["base_version"].initial = base_version.pk
        defaults = training_hyperparams_defaults(base_version=base_version)
        for name, f in HYPERPARAM_FIELDS.items():
            default = defaults.get(name, DEFAULTS[name])
            if f.type is bool:
                field = forms.BooleanField(required=False, initial=default)
            elif "choices" in f.metadata:  # a select, validated like every other value in hyperparams.py
                field = forms.CharField(required=False, initial=default,
                                        widget=forms.Select(choices=[(c, c) for c in f.metadata["choices"]]))
            else:
                field = forms.CharField(required=False, initial=", ".join(default) if f.type is list else default,
                                        widget=forms.TextInput(attrs={"inputmode": "decimal"} if f.type in (int, float) else {}))
            field.label = f.metadata["label"]
            field.help_text = f.metadata["help"]
            self.fields[f"hp_{name}"] = field

    def clean(self):
        data = super().clean()
        if self.errors or not data.get("base_version"):
            return data
        raw = {name: data.get(f"hp_{name}") for name in HYPERPARAM_FIELDS}
        try:
            data["hyperparams"] = training_hyperparams_clean(base_version=data["base_version"], hyperparams=raw)
        except ValidationError as exc:
            form_add_errors(self, exc, fields={name: f"hp_{name}" for name in HYPERPARAM_FIELDS})
        return data
