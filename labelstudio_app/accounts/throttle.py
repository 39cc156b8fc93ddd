"""Login throttling: too many failed logins from one address are refused for a while."""
from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def _key(ip: str) -> str:
    return f"login-failures:{ip}"


def login_allowed(*, ip: str) -> bool:
    return cache.get(_key(ip), 0) < getattr(settings, "LOGIN_FAILURES_PER_MINUTE", 10)


def login_failed(*, ip: str) -> None:
    key = _key(ip)
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
