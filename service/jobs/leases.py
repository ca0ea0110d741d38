"""Named leases in the database: mutual exclusion across threads, processes and hosts.

A lease is taken in a short transaction and held while slow work (GitLab calls) runs outside any
transaction. If its holder dies, the lease is free again: at once when the holder was a process on
this host that no longer exists, else when its time runs out.
"""
from __future__ import annotations

import hashlib
import os
import socket
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import and_, or_, select, update

from mltracker.service.db.engine import Database
from mltracker.service.db.jobs_schema import leases
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.tracking.clock import now_ms

DEFAULT_TTL_MS = 300_000


def process_space(hostname: str | None = None) -> str:
    """Who can see this process's pid: the host (its name and this boot) and the pid namespace.

    Pods of one ReplicaSet share long name prefixes, containers may share a host name: only a holder
    from the very same pid space may be declared dead by a missing pid.
    """
    parts = [hostname or socket.gethostname()]
    for path in ("/proc/sys/kernel/random/boot_id", "/proc/self/ns/pid"):
        try:
            parts.append(os.readlink(path) if path.endswith("/pid") else open(path).read().strip())
        except OSError:
            parts.append("?")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


_HOST = process_space()


def new_holder() -> str:
    """`host:pid:random` — unique per use, and telling which process holds the lease."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def holder_is_dead(holder: str) -> bool:
    """True only when the holder was a process of this host that has exited."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def try_acquire(db: Database, name: str, holder: str, ttl_ms: int) -> bool:
    now = now_ms()
    with db.write() as conn:
        upsert_rows(conn, leases, [{"name": name, "holder": holder, "expires": 0}], ["name"], [])
        taken = conn.execute(
            update(leases)
            .where(leases.c.name == name, or_(leases.c.expires < now, leases.c.holder == holder))
            .values(holder=holder, expires=now + ttl_ms)
        ).rowcount
        if taken == 1:
            return True
        current = conn.execute(select(leases.c.holder).where(leases.c.name == name)).scalar()
        if current is None or not holder_is_dead(current):
            return False
        # the holder's process is gone: take the lease over, unless someone else just did
        taken = conn.execute(
            update(leases).where(leases.c.name == name, leases.c.holder == current)
            .values(holder=holder, expires=now + ttl_ms)
        ).rowcount
    return taken == 1


def expires_in_ms(db: Database, name: str) -> int:
    """How long until the lease runs out by itself (0 when free)."""
    with db.read() as conn:
        expires = conn.execute(select(leases.c.expires).where(leases.c.name == name)).scalar()
    return max(0, (expires or 0) - now_ms())


def release(db: Database, name: str, holder: str) -> None:
    with db.write() as conn:
        conn.execute(
            update(leases).where(and_(leases.c.name == name, leases.c.holder == holder)).values(expires=0)
        )


class LeaseBusy(Exception):
    """Someone else holds the lease; try again later (at the latest after `expires_in_ms`)."""

    def __init__(self, name: str, expires_in_ms: int = 0):
        super().__init__(name)
        self.expires_in_ms = expires_in_ms


@contextmanager
def held(db: Database, name: str, holder: str | None = None, ttl_ms: int = DEFAULT_TTL_MS) -> Iterator[None]:
    holder = holder or new_holder()
    if not try_acquire(db, name, holder, ttl_ms):
        raise LeaseBusy(name, expires_in_ms(db, name))
    try:
        yield
    finally:
        release(db, name, holder)
