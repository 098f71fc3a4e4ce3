"""Version tokens in the shared cache: every process rebuilds its cached snapshot when the token changes.

Tokens are random rather than counters, so a lost or rolled-back cache entry can only cause a rebuild.
"""

import uuid

from django.core.cache import cache


def version_get(key: str) -> str:
    """The current token under ``key``, created on first use."""
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key) or uuid.uuid4().hex
    return version


def version_bump(key: str) -> None:
    """A new token under ``key``: every cached snapshot built under the old one is stale."""
    cache.set(key, uuid.uuid4().hex, None)
