"""Input parsing only: the labelling form's fields -> annotation values; the schema editor form."""
import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from labelstudio_app.projects.schema import LIST_KINDS, schema_validate

FIELD_PREFIX = "q_"


def annotation_values_from_post(schema: list[dict], data) -> dict:
    """The widgets' form fields as a values dict (validated later by the service, against the schema)."""
    values = {}
    for question in schema:
        field = FIELD_PREFIX + question["name"]
        if question["kind"] in LIST_KINDS:
            values[question["name"]] = data.getlist(field)
        else:
            values[question["name"]] = data.get(field, "")
    return values


class SchemaForm(forms.Form):
    label_schema = forms.CharField(label=_("Label schema (JSON)"), widget=forms.Textarea(attrs={"rows": 18}))
    instructions = forms.CharField(label=_("Instructions for annotators"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 6}))

    def clean_label_schema(self):
        raw = self.cleaned_data["label_schema"]
        try:
            schema = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(_("Not valid JSON: line %(line)s, column %(col)s: %(msg)s"),
                                  params={"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from None
        return schema_validate(schema)
