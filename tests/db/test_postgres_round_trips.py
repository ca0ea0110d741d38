"""How many times a request waits for PostgreSQL, counted in libpq's own protocol trace (one
ReadyForQuery per round trip): a training loop's single write on a connection used a moment ago is
one round trip; a connection that sat idle is pinged first, in one round trip; a write whose
connection was killed since its last use is stored once, on a new connection."""
from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text

from mltracker.service.db.deadlines import RECENTLY_USED_S
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from mltracker.service.db.schema import metrics, params, tags
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking import single_writes
from tests.conftest import fresh_pg_database

PROJECT = 7


class _Trace:
    """libpq's trace of every connection the engine opens, written to one file."""

    def __init__(self, db: Database, path: Path):
        import psycopg

        self.path = path
        self._file = open(path, "w")

        @event.listens_for(db.engine, "connect")
        def _trace(dbapi_conn, _record):
            dbapi_conn.pgconn.trace(self._file.fileno())
            dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def round_trips(self, call) -> int:
        self._file.flush()
        before = self._count()
        call()
        self._file.flush()
        return self._count() - before

    def _count(self) -> int:
        return sum(1 for line in self.path.read_text().splitlines() if "\tReadyForQuery\t" in line)


@pytest.fixture
def traced(tmp_path):
    with fresh_pg_database() as url:
        db = Database(url)
        try:
            upgrade(db)
            db.dispose()  # connections opened from here on are traced
            trace = _Trace(db, tmp_path / "libpq.trace")
            with db.write() as conn:
                experiment = exps.create_experiment(conn, PROJECT, "round-trips")
                run_id = run_store.create_run(conn, PROJECT, experiment, "ci", None, [], "r")
            yield db, trace, run_id
        finally:
            db.dispose()


def _writes(db: Database, run_id: str):
    """Each kind's n-th call writes step n, param pn, tag value n."""
    calls = {kind: itertools.count() for kind in ("metric", "param", "tag")}

    def metric():
        point = run_store.MetricPoint("loss", 0.5, 1000, next(calls["metric"]))
        single_writes.log_metric(db, PROJECT, run_store.prepare_batch(run_id, [point], [], []))

    return {
        "metric": metric,
        "param": lambda: single_writes.log_param(db, PROJECT, run_id, f"p{next(calls['param'])}", "v"),
        "tag": lambda: single_writes.set_tag(db, PROJECT, run_id, "epoch", str(next(calls["tag"]))),
    }


def test_a_write_on_a_connection_used_a_moment_ago_is_one_round_trip(traced):
    db, trace, run_id = traced
    for name, write in _writes(db, run_id).items():
        write()
        assert [trace.round_trips(write) for _ in range(3)] == [1, 1, 1], name


def test_a_connection_idle_for_a_while_is_pinged_first_in_one_round_trip(traced):
    db, trace, run_id = traced
    write = _writes(db, run_id)["tag"]
    write()
    time.sleep(RECENTLY_USED_S + 0.2)
    assert trace.round_trips(write) == 2
    # Everything else (SQLAlchemy's path) is pinged at every checkout, in one round trip too.
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
    # The ping, then psycopg's BEGIN, the SELECT, and the pool's ROLLBACK at return.
    assert trace.round_trips(lambda: _read_one(db)) == 1 + 3


def _read_one(db: Database) -> None:
    with db.read() as conn:
        conn.execute(text("SELECT 1")).all()


def test_writes_whose_connection_was_killed_since_its_last_use_are_stored_once(traced):
    db, _trace, run_id = traced
    admin = create_engine(db.uri, isolation_level="AUTOCOMMIT")
    try:
        for name, write in _writes(db, run_id).items():
            write()  # the pool now holds a connection used a moment ago
            with admin.connect() as conn:
                killed = conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
            assert killed >= 1, name
            write()
    finally:
        admin.dispose()
    with db.read() as conn:
        assert conn.execute(select(metrics.c.step).where(metrics.c.run_uuid == run_id)).scalars().all() == [0, 1]
        assert sorted(conn.execute(select(params.c.key).where(params.c.run_uuid == run_id)).scalars()) == ["p0", "p1"]
        assert conn.execute(select(tags.c.value).where(tags.c.run_uuid == run_id, tags.c.key == "epoch")
                            ).scalar_one() == "1"
