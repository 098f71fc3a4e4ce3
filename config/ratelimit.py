"""Per-address request limits for public endpoints, counted in the cache every web process shares."""

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address the request came from, as this server saw it (REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "")


def rate_limited(request: HttpRequest, scope: str, per_minute: int) -> bool:
    """Count this request in the address's fixed one-minute window for ``scope``; True once over ``per_minute``."""
    window = int(time.time() // 60)
    key = f"rate:{scope}:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=70)
    return cache.incr(key) > per_minute
