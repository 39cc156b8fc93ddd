"""Input validation for the new-audit form. The keywords box takes one option a line: `value: word, word`."""
from django import forms
from django.utils.translation import gettext_lazy as _

from labelstudio_app.audit.models import AuditRun
from labelstudio_app.audit.selectors import (
    model_version_list_for_audit,
    question_list_single_choice,
    snapshot_list_for_audit,
)


def parse_keywords(text: str, options: list[str]) -> dict[str, list[str]]:
    """'yes: 需要, yes, needs' lines -> {"yes": ["需要", "yes", "needs"]}; errors name the line."""
    keywords: dict[str, list[str]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        value, sep, words = line.replace("：", ":").partition(":")
        value = value.strip()
        if not sep:
            raise forms.ValidationError(_("line %(n)s: write 'option: word, word'") % {"n": number})
        if value not in options:
            raise forms.ValidationError(_("line %(n)s: '%(v)s' is not an option (%(o)s)")
                                        % {"n": number, "v": value, "o": ", ".join(options)})
        words_list = [w.strip() for w in words.replace("，", ",").split(",") if w.strip()]
        keywords.setdefault(value, []).extend(words_list)
    return keywords


class AuditRunForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    question = forms.ChoiceField(label=_("Question"))
    model_versions = forms.ModelMultipleChoiceField(label=_("Model versions"), queryset=None)
    positive_class = forms.CharField(label=_("Positive class"), required=False, max_length=200,
                                     help_text=_("An option value; its precision / recall / F1 are reported."))
    metric = forms.ChoiceField(label=_("Scaling metric"), choices=AuditRun.Metric.choices,
                               initial=AuditRun.Metric.PRECISION)
    tolerance = forms.FloatField(label=_("Tolerance"), initial=0.02, min_value=0, max_value=1)
    template = forms.CharField(label=_("Prompt template"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("Empty: the project's prompt template. Use {text} and {context}."))
    keywords = forms.CharField(label=_("Keywords"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("One option a line: value: word, word"))
    regex = forms.CharField(label=_("Regex"), required=False, max_length=500,
                            help_text=_("Optional; its first group is the answer."))
    temperature = forms.FloatField(label=_("Temperature"), initial=0.0, min_value=0, max_value=2)
    max_new_tokens = forms.IntegerField(label=_("Max new tokens"), initial=32, min_value=1, max_value=4096)
    scope = forms.ChoiceField(label=_("Items"), choices=AuditRun.Scope.choices, initial=AuditRun.Scope.ALL,
                              required=False)
    snapshot = forms.ModelChoiceField(label=_("Snapshot"), queryset=None, required=False,
                                      help_text=_("For the held-out scope: only this snapshot's held-out items."))
    scoring = forms.ChoiceField(label=_("Scoring"), choices=AuditRun.Scoring.choices,
                                initial=AuditRun.Scoring.GENERATE, required=False)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.questions = {q["name"]: q for q in question_list_single_choice(project=project)}
        self.fields["question"].choices = [(n, q.get("label") or n) for n, q in self.questions.items()]
        self.fields["model_versions"].queryset = model_version_list_for_audit(project=project)
        self.fields["snapshot"].queryset = snapshot_list_for_audit(project=project)

    def clean(self):
        data = super().clean()
        data["scope"] = data.get("scope") or AuditRun.Scope.ALL  # a form posted without the fields audits as before
        data["scoring"] = data.get("scoring") or AuditRun.Scoring.GENERATE
        question = self.questions.get(data.get("question"))
        if question is not None:
            options = [o["value"] for o in question.get("options", [])]
            try:
                data["keywords"] = parse_keywords(data.get("keywords", ""), options)
            except forms.ValidationError as exc:
                self.add_error("keywords", exc)
        return data
