"""Reads through the shared cache that survive its outage: the cache only saves work, so while it (Redis) is
down the value is computed instead and labelling and review keep working."""
import logging
from collections.abc import Callable

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cached(key: str, compute: Callable[[], object], ttl: int):
    try:
        return cache.get_or_set(key, compute, ttl)
    except Exception as exc:  # any cache backend error: the value is still computable
        logger.warning("cache unavailable, computing %s: %s", key, exc)
        return compute()
