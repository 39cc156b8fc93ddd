"""The one DRF exception handler: every API error answers `{"detail": "...", "errors": {field: [messages]}}`.

Django's ValidationError -> 400, PermissionDenied -> 403, Http404 -> 404, `Conflict` -> 409; DRF's own
errors (a serializer's ValidationError, 401, 429, ...) keep their status and get the same shape.
"""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from labelstudio_app.core.errors import Conflict

NON_FIELD = ("non_field_errors", "detail", "__all__")


def _flatten(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {msg}" for key, inner in value.items() for msg in _flatten(inner)]
    if isinstance(value, (list, tuple)):
        return [msg for inner in value for msg in _flatten(inner)]
    return [str(value)]


def _validation_body(data) -> dict:
    if not isinstance(data, dict):
        messages = _flatten(data)
        return {"detail": " ".join(messages), "errors": {}}
    errors = {key: _flatten(value) for key, value in data.items() if key not in NON_FIELD}
    top = [msg for key in NON_FIELD if key in data for msg in _flatten(data[key])]
    detail = " ".join(top) or " ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items())
    return {"detail": detail or _("Invalid input."), "errors": errors}


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc), "errors": {}}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(response.data)
    else:
        data = response.data
        detail = data.get("detail") if isinstance(data, dict) else None
        response.data = {"detail": str(detail) if detail is not None else " ".join(_flatten(data)), "errors": {}}
    return response
