from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404, HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def staff_required(view):
    """Admin-only pages: anonymous users go to login, everyone else who is not staff gets 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def errors_split(exc: ValidationError) -> tuple[dict[str, list[str]], list[str]]:
    """A service's ValidationError as (messages per field, messages about no field)."""
    if not hasattr(exc, "error_dict"):
        return {}, list(exc.messages)
    fields = {k: v for k, v in exc.message_dict.items() if k != NON_FIELD_ERRORS}
    return fields, list(exc.message_dict.get(NON_FIELD_ERRORS, []))


def form_add_errors(form, exc: ValidationError, *, fields: dict[str, str] | None = None) -> None:
    """Shows a service's ValidationError on the form: under the field it names when the form has one, else on top.
    `fields` maps an error key (or its part before the first dot) to a form field; a message that lands on top or
    under a field other than its own key's keeps the key in front, so the user sees what it is about.
    Pages without a Django form (the labelling card) read the same split through `errors_split`."""
    mapping = fields or {}
    found, general = errors_split(exc)
    for key, errors in found.items():
        target = key if key in form.fields else mapping.get(key, mapping.get(key.split(".")[0]))
        if target not in form.fields:
            target = None
        own = target is not None and (key in form.fields or key in mapping)
        form.add_error(target, errors if own else [f"{key}: {m}" for m in errors])
    if general:
        form.add_error(None, general)
