import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# No inline scripts or styles anywhere: every script and stylesheet is a file under /static/.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


# Pages and API endpoints that take a file; they get FLYWHEEL_MAX_UPLOAD_MB, everything else FLYWHEEL_MAX_BODY_MB.
UPLOAD_URL_NAMES = {"import-page", "import-preview", "import-start", "api-import-create", "api-import-preview",
                    "api-import-bulk"}
# Room for the multipart framing and the form's other fields around a file of exactly the upload limit.
UPLOAD_OVERHEAD_BYTES = 1024 * 1024


def _body_limit(request) -> tuple[int, int]:
    """(the limit users are told, in MB; the bytes actually allowed) for this request's URL."""
    try:
        url_name = resolve(request.path_info).url_name
    except Resolver404:
        url_name = None
    if url_name in UPLOAD_URL_NAMES:
        return settings.MAX_UPLOAD_MB, settings.MAX_UPLOAD_MB * 1024 * 1024 + UPLOAD_OVERHEAD_BYTES
    return settings.MAX_BODY_MB, settings.MAX_BODY_MB * 1024 * 1024


class BoundedStream:
    """Reads at most `limit` bytes of a request body, then refuses, so a body without (or with a lying)
    Content-Length cannot make the server read and spool more than the limit."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.read_so_far = stream, limit, 0

    def _count(self, data: bytes) -> bytes:
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            raise RequestDataTooBig(_("The request body is over the limit."))
        return data

    def read(self, size=-1):
        if size is None or size < 0:
            size = self.limit + 1 - self.read_so_far
        return self._count(self.stream.read(min(size, self.limit + 1 - self.read_so_far)))

    def readline(self, size=-1):
        if size is None or size < 0:
            size = self.limit + 1 - self.read_so_far
        return self._count(self.stream.readline(min(size, self.limit + 1 - self.read_so_far)))

    def __iter__(self):
        return iter(self.readline, b"")

    def close(self):
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


def _refuse(request, status: int, message: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestLimitsMiddleware:
    """First in the stack: refuses a body over its limit (413) before anything reads it, bounds the body
    stream, and refuses a query parameter holding a NUL character (400, naming it), which the database
    cannot store or compare."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit_mb, limit = _body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, _("The Content-Length header is not a number."))
        if length > limit:
            return _refuse(request, 413, _("The request body is %(size).1f MB; the limit is %(limit)s MB.")
                           % {"size": length / 1024 / 1024, "limit": limit_mb})
        request._stream = BoundedStream(request._stream, limit)
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return _refuse(request, 400, _("The query parameter %(name)s contains a NUL character.")
                               % {"name": name.replace("\x00", "\\0")})
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """While the database is unreachable (a restart, a failover) answer 503 with Retry-After at once,
    instead of a 500 that reads like a bug; the request wrote nothing, so retrying is safe."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable: %s", exception)
        response = HttpResponse(_("The database is unavailable for a moment. Please retry in a few seconds."),
                                status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
