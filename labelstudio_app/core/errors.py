"""The one error type of our own that crosses a service boundary.

Services raise `django.core.exceptions.ValidationError` (keyed by field) for input a user can fix,
`django.core.exceptions.PermissionDenied` for a refusal, and `Conflict` for a race or a state conflict
(someone else got there first, the object moved on). Nothing else leaves a service for a user to see.
"""


class Conflict(Exception):
    """A race or a state conflict: the request was well formed, but the state it needs is gone."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)
