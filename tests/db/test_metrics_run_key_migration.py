"""Migration 0017 takes the metrics → runs foreign key away (PostgreSQL: dropped; SQLite: the
WITHOUT ROWID table rebuilt) and keeps every stored point; downgrading puts the key back."""
from __future__ import annotations

import math

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from mltracker.service.db import migrate
from mltracker.service.db.engine import Database
from mltracker.service.db.schema import metrics
from tests import factories
from tests.conftest import fresh_pg_database

BEFORE = "0016_gateway"
POINTS = [(step, step * 0.5) for step in range(50)] + [(50, float("nan"))]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_before(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/m.db")
        try:
            yield db
        finally:
            db.dispose()
        return
    with fresh_pg_database() as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


def _foreign_keys(db: Database) -> list[str]:
    with db.read() as conn:
        return [fk["name"] for fk in inspect(conn).get_foreign_keys("metrics")]


def _points(db: Database, run_id: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(metrics.c.step, metrics.c.value, metrics.c.is_nan).where(metrics.c.run_uuid == run_id)
            .order_by(metrics.c.step))]


def test_the_key_goes_and_the_points_stay(db_before):
    db = db_before
    migrate.upgrade(db, BEFORE)
    assert _foreign_keys(db) == ["fk_metrics_run_uuid_runs"]
    with db.write() as conn:
        run_id = factories.run(conn, factories.experiment(conn), "r", metrics={"loss": POINTS})
    stored = _points(db, run_id)
    assert len(stored) == len(POINTS)

    migrate.upgrade(db)
    assert _foreign_keys(db) == []
    assert _points(db, run_id) == stored
    if db.is_sqlite:
        with db.read() as conn:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'metrics'")).scalar_one()
        assert sql.rstrip().endswith("WITHOUT ROWID")

    with db.unbounded() as conn:
        command.downgrade(migrate._config(conn), BEFORE)
        conn.commit()
    assert _foreign_keys(db) == ["fk_metrics_run_uuid_runs"]
    assert _points(db, run_id) == stored
    assert math.isnan(POINTS[-1][1]) and stored[-1][2]
