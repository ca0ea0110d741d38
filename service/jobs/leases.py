"""Named leases in the database: mutual exclusion across threads, processes and hosts.

A lease is taken in a short transaction and held while slow work (GitLab calls) runs outside any
transaction; it expires by itself if its holder dies.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import and_, or_, update

from mltracker.service.db.engine import Database
from mltracker.service.db.jobs_schema import leases
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.tracking.clock import now_ms


def try_acquire(db: Database, name: str, holder: str, ttl_ms: int) -> bool:
    now = now_ms()
    with db.write() as conn:
        upsert_rows(conn, leases, [{"name": name, "holder": holder, "expires": 0}], ["name"], [])
        taken = conn.execute(
            update(leases)
            .where(leases.c.name == name, or_(leases.c.expires < now, leases.c.holder == holder))
            .values(holder=holder, expires=now + ttl_ms)
        ).rowcount
    return taken == 1


def release(db: Database, name: str, holder: str) -> None:
    with db.write() as conn:
        conn.execute(
            update(leases).where(and_(leases.c.name == name, leases.c.holder == holder)).values(expires=0)
        )


class LeaseBusy(Exception):
    """Someone else holds the lease; try again later."""


@contextmanager
def held(db: Database, name: str, holder: str, ttl_ms: int = 300_000) -> Iterator[None]:
    if not try_acquire(db, name, holder, ttl_ms):
        raise LeaseBusy(name)
    try:
        yield
    finally:
        release(db, name, holder)
