"""A durable job queue in the application database.

Work is stored before a webhook is answered, so it survives restarts. Any number of workers
(threads in `mltracker serve`, `mltracker worker` processes, other hosts) take jobs without
double processing: PostgreSQL hands rows out with FOR UPDATE SKIP LOCKED; SQLite serialises
writers (BEGIN IMMEDIATE). A claimed job carries a lease: if its worker dies, the lease runs out
and another worker takes it again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Connection, and_, or_, select, update

from mltracker.service.db.engine import Database
from mltracker.service.db.jobs_schema import jobs
from mltracker.service.db.upsert import dialect_insert
from mltracker.service.tracking.clock import now_ms

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
DEFAULT_LEASE_MS = 120_000
MAX_DEFER_AGE_MS = 3_600_000  # a job still waiting (429s, a busy lease) an hour after it was queued fails


@dataclass(frozen=True)
class Job:
    id: int
    project_id: int
    kind: str
    payload: dict
    attempts: int
    max_attempts: int


def enqueue(db: Database, *, project_id: int, kind: str, payload: dict, dedupe_key: str,
            max_attempts: int = 6) -> bool:
    """Store a job unless one with the same dedupe key exists. True when newly stored."""
    with db.write() as conn:
        return enqueue_in(conn, project_id=project_id, kind=kind, payload=payload, dedupe_key=dedupe_key,
                          max_attempts=max_attempts)


def enqueue_in(conn: Connection, *, project_id: int, kind: str, payload: dict, dedupe_key: str,
               max_attempts: int = 6) -> bool:
    """`enqueue` inside the caller's transaction: the job exists exactly when the change that
    asked for it commits."""
    now = now_ms()
    row = {
        "project_id": project_id, "kind": kind, "dedupe_key": dedupe_key[:255],
        "payload": json.dumps(payload), "status": QUEUED, "attempts": 0,
        "max_attempts": max_attempts, "run_after": now, "created_time": now, "updated_time": now,
    }
    stmt = (
        dialect_insert(conn)(jobs).values(row)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(jobs.c.id)
    )
    return conn.execute(stmt).first() is not None


def _ready(now: int, kinds: Iterable[str] | None):
    query = (
        select(jobs)
        .where(or_(
            and_(jobs.c.status == QUEUED, jobs.c.run_after <= now),
            and_(jobs.c.status == RUNNING, jobs.c.locked_until < now),
        ))
        .order_by(jobs.c.run_after, jobs.c.id)
        .limit(1)
    )
    return query if kinds is None else query.where(jobs.c.kind.in_(list(kinds)))


def claim(db: Database, lease_ms: int = DEFAULT_LEASE_MS, kinds: Iterable[str] | None = None) -> Job | None:
    """Take the next ready job (of one of `kinds`, when given: workers of different job kinds
    share the table)."""
    now = now_ms()
    # An idle poll only reads: on SQLite a write transaction would take the database's write lock.
    with db.read() as conn:
        if conn.execute(_ready(now, kinds).with_only_columns(jobs.c.id)).first() is None:
            return None
    with db.write() as conn:
        query = _ready(now, kinds)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        row = conn.execute(query).first()
        if row is None:
            return None
        conn.execute(
            update(jobs).where(jobs.c.id == row.id).values(
                status=RUNNING, attempts=row.attempts + 1, locked_until=now + lease_ms, updated_time=now
            )
        )
    return Job(row.id, row.project_id, row.kind, json.loads(row.payload), row.attempts + 1, row.max_attempts)


def complete(db: Database, job: Job) -> None:
    _finish(db, job, status=DONE, error=None)


def fail(db: Database, job: Job, error: str) -> None:
    _finish(db, job, status=FAILED, error=error)


def retry_later(db: Database, job: Job, error: str, delay_ms: int) -> bool:
    """Queue the job again after delay_ms; mark it failed instead after its last attempt."""
    if job.attempts >= job.max_attempts:
        fail(db, job, error)
        return False
    now = now_ms()
    with db.write() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job.id).values(
                status=QUEUED, run_after=now + delay_ms, locked_until=None, last_error=error[:2000],
                updated_time=now,
            )
        )
    return True


def defer(db: Database, job: Job, reason: str, delay_ms: int, max_age_ms: int = MAX_DEFER_AGE_MS) -> bool:
    """Queue the job again after delay_ms, giving back the attempt its claim counted. A wait does
    not use up attempts, so a job older than max_age_ms (GitLab throttling it for good, a lease
    that never frees) fails instead; False then."""
    now = now_ms()
    with db.write() as conn:
        waited = conn.execute(
            update(jobs).where(jobs.c.id == job.id, jobs.c.created_time > now - max_age_ms).values(
                status=QUEUED, run_after=now + delay_ms, locked_until=None, attempts=max(0, job.attempts - 1),
                last_error=reason[:2000], updated_time=now,
            )
        ).rowcount
    if not waited:
        _finish(db, job, FAILED, f"still waiting after {max_age_ms // 1000} s: {reason}")
    return bool(waited)


def _finish(db: Database, job: Job, status: str, error: str | None) -> None:
    with db.write() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job.id).values(
                status=status, locked_until=None, last_error=error[:2000] if error else None,
                updated_time=now_ms(),
            )
        )


def jobs_of_project(db: Database, project_id: int, status: str | None = None, limit: int = 100) -> list[dict]:
    query = select(jobs).where(jobs.c.project_id == project_id).order_by(jobs.c.id.desc()).limit(limit)
    if status:
        query = query.where(jobs.c.status == status)
    with db.read() as conn:
        return [
            {"id": r.id, "kind": r.kind, "status": r.status, "attempts": r.attempts,
             "last_error": r.last_error, "created_time": r.created_time, "updated_time": r.updated_time}
            for r in conn.execute(query)
        ]
