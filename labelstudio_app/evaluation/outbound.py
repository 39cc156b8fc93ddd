"""Rules for where the worker may send requests and which environment variable may hold the key.

The `openai` backend reaches out over the network with a bearer token read from the worker's environment,
so both ends are staff-managed (OutboundEndpoint rows, seeded from FLYWHEEL_OUTBOUND_ENDPOINTS) and checked
here on every write and again when a job starts.
"""
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

KEY_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Variables holding the app's own secrets or connection strings are never sent anywhere, whoever asks.
FORBIDDEN_KEY_ENV_WORDS = ("SECRET", "PASSWORD", "PASSWD", "DATABASE", "REDIS", "BROKER")
FORBIDDEN_KEY_ENV_PREFIXES = ("FLYWHEEL_", "DJANGO_", "CELERY_", "PG", "POSTGRES")


def key_env_check(name: str) -> str:
    """The name of the environment variable holding an endpoint's API key ("" for none), or ValidationError."""
    name = (name or "").strip()
    if not name:
        return ""
    if not KEY_ENV_NAME.match(name):
        raise ValidationError({"api_key_env": _(
            "The NAME of an environment variable holding the key (letters, digits, _), never the key itself.")})
    upper = name.upper()
    setting_names = {n for n in dir(settings) if n.isupper()}
    if (any(word in upper for word in FORBIDDEN_KEY_ENV_WORDS) or upper.startswith(FORBIDDEN_KEY_ENV_PREFIXES)
            or upper in setting_names):
        raise ValidationError({"api_key_env": _(
            "%(name)s holds one of the application's own settings or secrets and can never be sent as an API key.")
            % {"name": name}})
    return name


def base_url_check(url: str) -> str:
    """An http(s) base URL without credentials, query string or fragment (the backend appends the paths)."""
    raw = (url or "").strip()
    problem = None
    try:
        parts = urlsplit(raw)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        problem = _("an http:// or https:// URL with a host is required, e.g. http://gpu1:8000/v1.")
    elif parts.username is not None or parts.password is not None or "@" in parts.netloc:
        problem = _("credentials in the URL are not allowed; give the key through an environment variable.")
    elif "?" in raw or "#" in raw:
        problem = _("a query string or fragment is not allowed; the backend builds the request paths.")
    elif any(ch.isspace() or ord(ch) < 32 for ch in raw):
        problem = _("spaces and control characters are not allowed.")
    if problem:
        raise ValidationError({"base_url": _("Base URL: %(problem)s") % {"problem": problem}})
    return raw.rstrip("/")
