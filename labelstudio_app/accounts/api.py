"""Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md)."""
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


class TokenApi(ObtainAuthToken):
    """Exchange a username and password for an API token (throttled like the login page)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
