"""Input validation only."""
import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from labelstudio_app.projects.models import Item
from labelstudio_app.review.services import DIMENSIONS

SCORE_CHOICES = [(i, str(i)) for i in range(1, 6)]
PREFERENCE_CHOICES = [("left", _("Left is better")), ("right", _("Right is better")), ("tie", _("Tie")),
                      ("both_bad", _("Both bad"))]
DIMENSION_LABELS = {"helpfulness": _("Helpfulness"), "honesty": _("Honesty"), "harmlessness": _("Harmlessness")}


class JudgmentForm(forms.Form):
    """Scores for Left and Right on each 3H dimension (1–5), an overall preference and a comment."""

    preference = forms.ChoiceField(choices=PREFERENCE_CHOICES, label=_("Overall"),
                                   error_messages={"required": _("Choose an overall preference.")})
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
                              label=_("Comment"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for side, side_label in (("left", _("Left")), ("right", _("Right"))):
            for d in DIMENSIONS:
                label = _("%(side)s · %(dimension)s") % {"side": side_label, "dimension": DIMENSION_LABELS[d]}
                self.fields[f"{side}_{d}"] = forms.TypedChoiceField(
                    choices=SCORE_CHOICES, coerce=int, label=label,
                    error_messages={"required": _("Score %(label)s from 1 to 5.") % {"label": label}})

    def scores(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k.startswith(("left_", "right_"))}


def _split_ids(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,;]+", text or "") if t]


class RoundForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    model_a = forms.ModelChoiceField(queryset=None, label=_("Model A"))
    model_b = forms.ModelChoiceField(queryset=None, required=False, label=_("Model B"),
                                     empty_label=_("— the reference (human) answer —"))
    task_type = forms.CharField(required=False, max_length=200, label=_("Task type"),
                                help_text=_("Only items of this task type (a prefix works: “reasoning”)."))
    status = forms.ChoiceField(required=False, label=_("Item status"),
                               choices=[("", _("any")), *list(Item.Status.choices)])
    item_ids = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Item ids"),
                               help_text=_("A held-out set: ids or external ids, separated by spaces or commas. "
                                           "Overrides the filters."))
    sample = forms.IntegerField(required=False, min_value=1, label=_("Random sample of n"))
    overlap = forms.IntegerField(min_value=1, max_value=20, initial=1, label=_("Judgments per comparison"))
    n_gold = forms.IntegerField(min_value=0, max_value=1000, initial=0, required=False, label=_("Gold comparisons"),
                                help_text=_("Attention checks: a reference answer against an answer to another question."))
    generate = forms.BooleanField(required=False, initial=True, label=_("Generate the missing answers first"))
    params = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Sampling parameters (JSON)"),
                             help_text=_('e.g. {"temperature": 0.7, "max_new_tokens": 256}; empty: use any existing answers.'))

    def __init__(self, *args, model_versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_a"].queryset = model_versions
        self.fields["model_b"].queryset = model_versions
        # Proposed: the newest version against its parent (the loop's own question), else against the one before.
        newest = model_versions.order_by("-id").first()
        if newest is not None:
            other = newest.parent if newest.parent_id else model_versions.exclude(pk=newest.pk).order_by("-id").first()
            self.fields["model_a"].initial = newest.pk
            self.fields["model_b"].initial = other.pk if other else None

    def clean_item_ids(self):
        return _split_ids(self.cleaned_data.get("item_ids", ""))

    def clean_params(self):
        raw = (self.cleaned_data.get("params") or "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON (line %(line)s, column %(col)s): %(msg)s")
                                        % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Expected a JSON object of sampling parameters."))
        return value
