"""A bounded, per-process TTL cache of authentication/authorisation decisions.

Keys are SHA-256 digests of tokens (plus the project), never tokens. A decision is either a value
or an `MlflowError` to raise again (401/403/404 are cached like allows, so a flood of requests with
a bad token does not become a flood of GitLab calls). "GitLab unavailable" is never cached.
Concurrent misses on one key wait for the first computation instead of all calling GitLab.
Per-process state is fine here: every replica can rebuild it from GitLab (DESIGN.md, Scaling out).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from mltracker.service.errors import MlflowError

T = TypeVar("T")

MAX_TTL_S = 60.0
DEFAULT_TTL_S = 30.0
DEFAULT_MAX_ENTRIES = 10_000
CACHED_ERRORS = ("UNAUTHENTICATED", "PERMISSION_DENIED", "RESOURCE_DOES_NOT_EXIST")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class NotCached(Exception):
    """No decision is cached for the key (never made, or expired)."""


class DecisionCache:
    def __init__(self, ttl_s: float = DEFAULT_TTL_S, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl_s = max(0.0, min(float(ttl_s), MAX_TTL_S))
        self.max_entries = max(1, int(max_entries))
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, bool, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _lookup(self, key: Hashable):
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, _, _ = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _store(self, key: Hashable, is_error: bool, value: object) -> None:
        if self.ttl_s <= 0:
            return
        self._entries[key] = (self._clock() + self.ttl_s, is_error, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    @staticmethod
    def _unpack(entry):
        _, is_error, value = entry
        if is_error:
            raise value  # type: ignore[misc]
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            entry = self._lookup(key)
            if entry is not None:
                return self._unpack(entry)
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._lookup(key)
                if entry is not None:
                    return self._unpack(entry)
            try:
                value = compute()
            except MlflowError as exc:
                with self._lock:
                    if exc.error_code in CACHED_ERRORS:
                        self._store(key, True, exc)
                    self._key_locks.pop(key, None)
                raise
            except BaseException:
                with self._lock:
                    self._key_locks.pop(key, None)
                raise
            with self._lock:
                self._store(key, False, value)
                self._key_locks.pop(key, None)
            return value

    def cached(self, key: Hashable):
        """The decision cached for `key` (an error decision is raised again); NotCached if none."""
        with self._lock:
            entry = self._lookup(key)
        if entry is None:
            raise NotCached(key)
        return self._unpack(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
