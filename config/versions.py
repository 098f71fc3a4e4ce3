"""Version tokens in the shared cache, and per-process snapshots of configuration rebuilt when a token changes.

A lead's way through the pipeline reads the same rarely-edited records many times (cadences,
templates, webhook subscriptions, criteria, routing rules). Each process keeps them as a
``Snapshot`` tagged with a token in the shared cache; saving or deleting a watched record
replaces the token, and every process rebuilds on its next read. Tokens are random rather than
counters, so a lost or rolled-back cache entry can only cause a rebuild, never a stale read.

Reading a token is one cache query. Inside ``versions_pinned()`` (every task runs in one) a
token is read once and kept for the block, so a unit of work sees one configuration and pays
one query per token, however many times it reads. A change made inside the block is seen at once.
"""

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

# Small, admin-edited records the pipeline reads per lead share one token: an edit to any rebuilds them all.
SETTINGS_KEY = "config:settings-version"

_pinned: ContextVar[dict[str, str] | None] = ContextVar("pinned_versions", default=None)


_snapshot_keys: set[str] = set()


def version_get(key: str) -> str:
    """The current token under ``key``, created on first use (read once per key inside ``versions_pinned``)."""
    pinned = _pinned.get()
    if pinned is not None and key in pinned:
        return pinned[key]
    if pinned is not None:
        # Every snapshot's token in one cache read: a task usually needs them all.
        pinned.update(cache.get_many(_snapshot_keys | {key}))
        if key in pinned:
            return pinned[key]
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key) or uuid.uuid4().hex
    if pinned is not None:
        pinned[key] = version
    return version


def version_bump(key: str) -> None:
    """A new token under ``key``: every cached snapshot built under the old one is stale."""
    version = uuid.uuid4().hex
    cache.set(key, version, None)
    pinned = _pinned.get()
    if pinned is not None:
        pinned[key] = version


@contextmanager
def versions_pinned() -> Iterator[None]:
    """Read each token at most once in the block; nested blocks share the outer one's reads."""
    if _pinned.get() is not None:
        yield
        return
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


def one_configuration(task: Callable[..., T]) -> Callable[..., T]:
    """Run a task inside ``versions_pinned()``."""

    @wraps(task)
    def run(*args, **kwargs) -> T:
        with versions_pinned():
            return task(*args, **kwargs)

    return run


class Snapshot(Generic[T]):
    """What ``build()`` returns, kept per process until the token under ``key`` changes.

    Saving or deleting any ``watched`` model replaces the token (bulk ``update()`` does not: it
    sends no signal, so code that edits watched records uses ``save()``). The value is shared
    by every thread of the process: treat it as read-only.
    """

    def __init__(self, key: str, build: Callable[[], T], watched: tuple = ()):
        self.key = key
        self.build = build
        self._lock = threading.Lock()
        self._built: tuple[str, T] | None = None
        _snapshot_keys.add(key)
        for model in watched:
            uid = f"snapshot-{key}-{model._meta.label}"
            post_save.connect(self._changed, sender=model, dispatch_uid=f"{uid}-save", weak=False)
            post_delete.connect(self._changed, sender=model, dispatch_uid=f"{uid}-delete", weak=False)

    def _changed(self, **kwargs) -> None:
        self.changed()

    def changed(self) -> None:
        """Make every process rebuild on its next read."""
        version_bump(self.key)

    def get(self) -> T:
        """The value for the current token, built now if this process has none for it."""
        version = version_get(self.key)
        built = self._built
        if built is not None and built[0] == version:
            return built[1]
        with self._lock:
            if self._built is None or self._built[0] != version:
                self._built = (version, self.build())
            return self._built[1]
