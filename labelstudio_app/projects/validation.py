"""Validation shared by the project forms and serializers (input validation only)."""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from labelstudio_app.projects.sft import template_validate

WEIGHT_KEYS = ("helpfulness", "honesty", "harmlessness")


def clean_weights_3h(value) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("3H weights must be an object like {\"helpfulness\": 1, \"honesty\": 1, "
                                "\"harmlessness\": 1}."))
    out = {}
    for key, weight in value.items():
        if key not in WEIGHT_KEYS:
            raise ValidationError(_("Unknown 3H weight %(key)s (use helpfulness, honesty, harmlessness).")
                                  % {"key": key})
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0 or weight > 100:
            raise ValidationError(_("3H weight %(key)s must be a number from 0 to 100.") % {"key": key})
        out[key] = weight
    return out


def clean_training_template(value, *, schema=None) -> dict:
    if value in (None, ""):
        return {}
    errors = template_validate(value, schema=schema)
    if errors:
        raise ValidationError([_("training template: %(e)s") % {"e": e} for e in errors])
    return value
