"""Small factories for the registry tests."""
from __future__ import annotations

import uuid

from mltracker.service.db.engine import Database
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def unique_project() -> int:
    return 100_000 + uuid.uuid4().int % 1_000_000_000


def make_experiment(db: Database, project_id: int) -> int:
    with db.write() as conn:
        return exps.create_experiment(conn, project_id, unique("exp"))


def make_run(db: Database, project_id: int, experiment_id: int, status: str | None = None) -> str:
    with db.write() as conn:
        run_id = run_store.create_run(conn, project_id, experiment_id, "alice", None, [], None)
        if status:
            run_store.update_run(conn, project_id, run_id, status=status, end_time=None, run_name=None)
    return run_id
