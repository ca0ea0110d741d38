"""single_writes.log_metric_batch (PostgreSQL: a metric-only log-batch in one autocommitted
statement) stores exactly what store_batch stores, a retried batch once, and nothing for a run it
may not write to."""
from __future__ import annotations

import itertools
import math
import sys

import pytest
from sqlalchemy import select

from mltracker.service.db.schema import latest_metrics, metrics
from mltracker.service.errors import MlflowError
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking import single_writes
from tests import factories
from tests.conftest import migrated_database

_names = itertools.count()


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """The one-statement batch is PostgreSQL's (SQLite's log-batch is store_batch)."""
    with migrated_database("postgresql", tmp_path_factory.mktemp("db")) as db:
        yield db


def _new_run(database, project):
    with database.write() as conn:
        experiment = factories.experiment(conn, f"e{next(_names)}", project=project)
        return factories.run(conn, experiment, "r", project=project, status=None)


def _batch(run_id, points):
    return run_store.prepare_batch(run_id, [run_store.MetricPoint(*p) for p in points], [], [])


def _stored(database, run_id):
    with database.read() as conn:
        history = conn.execute(
            select(metrics.c.key, metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
            .where(metrics.c.run_uuid == run_id)
            .order_by(metrics.c.key, metrics.c.step, metrics.c.timestamp, metrics.c.value)).all()
        latest = conn.execute(
            select(latest_metrics.c.key, latest_metrics.c.step, latest_metrics.c.timestamp, latest_metrics.c.value,
                   latest_metrics.c.is_nan)
            .where(latest_metrics.c.run_uuid == run_id).order_by(latest_metrics.c.key)).all()
    return [tuple(r) for r in history], [tuple(r) for r in latest]


BATCHES = [
    [("loss", 0.5, 10, 0), ("loss", 0.25, 11, 1), ("acc", 0.9, 10, 0), ("loss", 0.1, 9, 1)],
    [("loss", 0.75, 12, 1), ("acc", float("nan"), 13, 5), ("big", math.inf, 1, 0), ("big", -sys.float_info.max, 2, 0)],
    [("loss", 0.3, 5, 0), ("ünïcode key", 1.0, 1, -3)],
]


def test_stores_what_store_batch_stores(pg):
    project = factories.committed_project()
    fast, general = _new_run(pg, project), _new_run(pg, project)
    for points in BATCHES:
        single_writes.log_metric_batch(pg, project, _batch(fast, points))
        run_store.store_batch(pg, project, _batch(general, points))
    assert _stored(pg, fast) == _stored(pg, general)
    history, latest = _stored(pg, fast)
    assert len(history) == sum(len(b) for b in BATCHES)
    assert ("loss", 1, 12, 0.75, False) in latest


def test_a_retried_batch_is_stored_once(pg):
    project = factories.committed_project()
    run_id = _new_run(pg, project)
    batch = _batch(run_id, BATCHES[0])
    single_writes.log_metric_batch(pg, project, batch)
    single_writes.log_metric_batch(pg, project, batch)  # a duplicate key: the general path skips stored points
    history, _ = _stored(pg, run_id)
    assert len(history) == len(BATCHES[0])


def test_an_unknown_run_another_projects_run_or_a_deleted_run_gets_nothing(pg):
    project = factories.committed_project()
    run_id = _new_run(pg, project)
    for other_project, target, code in ((project, "f" * 32, "RESOURCE_DOES_NOT_EXIST"),
                                        (project + 1000, run_id, "RESOURCE_DOES_NOT_EXIST")):
        with pytest.raises(MlflowError) as caught:
            single_writes.log_metric_batch(pg, other_project, _batch(target, BATCHES[0]))
        assert caught.value.error_code == code
    with pg.write() as conn:
        run_store.set_lifecycle(conn, project, run_id, exps.DELETED)
    with pytest.raises(MlflowError) as caught:
        single_writes.log_metric_batch(pg, project, _batch(run_id, BATCHES[0]))
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert _stored(pg, run_id) == ([], [])


def test_a_point_twice_in_one_batch_is_stored_once(pg):
    project = factories.committed_project()
    run_id = _new_run(pg, project)
    single_writes.log_metric_batch(pg, project, _batch(run_id, [("loss", 0.5, 10, 0), ("loss", 0.5, 10, 0),
                                                                ("loss", 0.4, 11, 1)]))
    assert _stored(pg, run_id) == ([("loss", 0, 10, 0.5, False), ("loss", 1, 11, 0.4, False)],
                                   [("loss", 1, 11, 0.4, False)])
