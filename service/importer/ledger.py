"""Reading and writing the import's durable progress (table import_progress)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.db.upsert import upsert_rows
from mltracker.service.importer.progress_schema import import_progress
from mltracker.service.tracking.clock import now_ms

STARTED, DONE = "started", "done"
EXPERIMENT, RUN, LOGGED_MODEL, REGISTERED_MODEL = "experiment", "run", "logged_model", "registered_model"


@dataclass(frozen=True)
class Entry:
    target_key: str
    state: str
    fingerprint: str | None


def fingerprint(item) -> str:
    return hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Ledger:
    source: str
    project_id: int

    def get(self, conn: Connection, kind: str, source_key: str) -> Entry | None:
        row = conn.execute(
            select(import_progress.c.target_key, import_progress.c.state, import_progress.c.fingerprint).where(
                import_progress.c.source == self.source, import_progress.c.project_id == self.project_id,
                import_progress.c.kind == kind, import_progress.c.source_key == source_key,
            )
        ).first()
        return Entry(row.target_key, row.state, row.fingerprint) if row else None

    def all_of(self, conn: Connection, kind: str) -> dict[str, Entry]:
        rows = conn.execute(
            select(import_progress.c.source_key, import_progress.c.target_key, import_progress.c.state,
                   import_progress.c.fingerprint).where(
                import_progress.c.source == self.source, import_progress.c.project_id == self.project_id,
                import_progress.c.kind == kind,
            )
        )
        return {r.source_key: Entry(r.target_key, r.state, r.fingerprint) for r in rows}

    def record(self, conn: Connection, kind: str, source_key: str, target_key: str, state: str,
               fingerprint_: str | None = None) -> None:
        self.record_many(conn, kind, [(source_key, target_key, fingerprint_)], state)

    def record_many(self, conn: Connection, kind: str, entries: list[tuple[str, str, str | None]], state: str) -> None:
        """entries: (source key, target key, fingerprint); one statement for them all."""
        now = now_ms()
        upsert_rows(
            conn, import_progress,
            [{"source": self.source, "project_id": self.project_id, "kind": kind, "source_key": source_key,
              "target_key": target_key, "state": state, "fingerprint": fingerprint_, "updated_time": now}
             for source_key, target_key, fingerprint_ in entries],
            ["source", "project_id", "kind", "source_key"], ["target_key", "state", "fingerprint", "updated_time"],
        )
