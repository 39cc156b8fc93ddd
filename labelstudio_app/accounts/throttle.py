"""Throttles kept in the shared cache, so every gunicorn process and every web host counts together.

Failed logins count per (username, address) and, more loosely, per address: a guesser is stopped, and
guessing from one address cannot lock the user out from another.
"""
import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
# While the cache (Redis) is down the throttles let requests through: labelling and review keep working
# through a Redis outage, and a guesser gains a few minutes at most.
CACHE_ERRORS = (ConnectionError, TimeoutError, OSError)
try:
    import redis

    CACHE_ERRORS += (redis.RedisError,)
except ImportError:  # pragma: no cover - redis is a dependency; the database cache needs none
    pass


def client_ip(request) -> str:
    # Behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips); a client-set
    # X-Forwarded-For header is not trusted.
    return request.META.get("REMOTE_ADDR", "")


def _limits(*, username: str, ip: str) -> dict[str, int]:
    user = hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()[:32]
    ip = hashlib.sha256(ip.encode("utf-8", "replace")).hexdigest()[:32]
    return {
        f"login-failures:user-ip:{user}:{ip}": settings.LOGIN_FAILURES_PER_MINUTE,
        f"login-failures:ip:{ip}": settings.LOGIN_FAILURES_PER_IP_PER_MINUTE,
    }


def login_allowed(*, username: str, ip: str) -> bool:
    limits = _limits(username=username, ip=ip)
    try:
        counts = cache.get_many(list(limits))
    except CACHE_ERRORS as exc:
        logger.warning("login throttle unavailable, allowing: %s", exc)
        return True
    return all(counts.get(key, 0) < limit for key, limit in limits.items())


def login_failed(*, username: str, ip: str) -> None:
    try:
        for key in _limits(username=username, ip=ip):
            cache.add(key, 0, WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, WINDOW_SECONDS)
    except CACHE_ERRORS as exc:
        logger.warning("login throttle unavailable, failure not counted: %s", exc)


class ApiWriteThrottle(UserRateThrottle):
    """POST/PUT/PATCH/DELETE under /api/, per user (FLYWHEEL_API_WRITE_RATE); reads are not counted."""

    scope = "api-write"

    def get_rate(self):
        return settings.API_WRITE_RATE

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        # The rate is read per request so that a settings change (and a test's override) applies.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("API write throttle unavailable, allowing: %s", exc)
            return True


class ApiBulkThrottle(ApiWriteThrottle):
    """Batches posted to the bulk import, per user (FLYWHEEL_API_BULK_RATE), instead of the write rate: one
    batch is one request however many items it holds, so a client storing 20,000 items a second in batches of
    1,000 needs 20 a second, more than the write rate allows."""

    scope = "api-bulk"

    def get_rate(self):
        return settings.API_BULK_RATE
