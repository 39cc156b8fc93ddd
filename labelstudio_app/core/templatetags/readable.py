"""`{{ value|readable }}`: a stored value as a person reads it (never a Python repr)."""
import json

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def readable(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
    return str(value)
