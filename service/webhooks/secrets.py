"""Per-project webhook secrets: created by `mltracker webhook add`, kept only as a SHA-256.

A project with its own secret accepts only that secret; the instance-wide
MLTRACKER_WEBHOOK_SECRET is accepted only for projects without one. Comparisons take constant
time (digests of equal length, `hmac.compare_digest`).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from mltracker.service.db.bot_schema import webhook_secrets
from mltracker.service.db.engine import Database
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.tracking.clock import now_ms

SECRET_BYTES = 32


@dataclass(frozen=True)
class StoredSecret:
    project_id: int
    secret_sha256: str
    hook_id: int | None


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def save(db: Database, project_id: int, secret: str, hook_id: int | None = None) -> None:
    """Store (or replace) the project's secret; the secret itself is never stored."""
    row = {"project_id": project_id, "secret_sha256": digest(secret), "hook_id": hook_id, "created_time": now_ms()}
    with db.write() as conn:
        upsert_rows(conn, webhook_secrets, [row], ["project_id"], ["secret_sha256", "hook_id", "created_time"])


def stored(db: Database, project_id: int) -> StoredSecret | None:
    with db.read() as conn:
        row = conn.execute(select(webhook_secrets).where(webhook_secrets.c.project_id == project_id)).first()
    return StoredSecret(row.project_id, row.secret_sha256, row.hook_id) if row else None


def known(db: Database, given: str, instance_secret: str | None) -> bool:
    """Whether `given` is any secret at all (the instance's or some project's): checked before a
    delivery's body is read, so unauthenticated senders cost no parsing."""
    if instance_secret and hmac.compare_digest(digest(given), digest(instance_secret)):
        return True
    with db.read() as conn:
        return conn.execute(
            select(webhook_secrets.c.project_id).where(webhook_secrets.c.secret_sha256 == digest(given)).limit(1)
        ).first() is not None


def accepts(db: Database, project_id: int | None, given: str, instance_secret: str | None) -> bool:
    """Whether `given` (the X-Gitlab-Token header) authenticates a delivery for `project_id`."""
    own = stored(db, project_id) if project_id is not None else None
    if own is not None:
        return hmac.compare_digest(digest(given), own.secret_sha256)
    if not instance_secret:
        return False
    return hmac.compare_digest(digest(given), digest(instance_secret))
