"""store_batch on SQLite and PostgreSQL: a retried or overlapping batch stores each point once,
and a batch that fails for another reason still fails, with nothing written."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.schema import latest_metrics, metrics, params
from mltracker.service.errors import MlflowError
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking.metric_rows import fast_metric_rows

def _batch(run_id: str, steps, params_=()):
    items = [{"key": "loss", "value": 1.0 / (s + 1), "timestamp": 1000 + s, "step": s} for s in steps]
    return run_store.prepare_batch(run_id, [], list(params_), [], metric_rows=fast_metric_rows(run_id, items))


def _stored(database, run_id: str):
    with database.read() as conn:
        points = conn.execute(select(func.count()).select_from(metrics).where(metrics.c.run_uuid == run_id)).scalar()
        latest = conn.execute(select(latest_metrics.c.step).where(latest_metrics.c.run_uuid == run_id)).scalar()
        stored_params = conn.execute(select(func.count()).select_from(params).where(params.c.run_uuid == run_id)).scalar()
    return points, latest, stored_params


def test_a_retried_batch_is_a_no_op(database, committed_run):
    project, run_id = committed_run
    batch = _batch(run_id, range(100), [{"key": "lr", "value": "0.1"}])
    run_store.store_batch(database, project, batch)
    run_store.store_batch(database, project, batch)
    assert _stored(database, run_id) == (100, 99, 1)


def test_a_batch_overlapping_stored_points_adds_only_the_new_ones(database, committed_run):
    project, run_id = committed_run
    run_store.store_batch(database, project, _batch(run_id, range(0, 60)))
    run_store.store_batch(database, project, _batch(run_id, range(40, 100)))
    assert _stored(database, run_id) == (100, 99, 0)


def test_the_same_point_twice_in_one_batch_is_stored_once(database, committed_run):
    project, run_id = committed_run
    run_store.store_batch(database, project, _batch(run_id, [3, 3, 4]))
    assert _stored(database, run_id) == (2, 4, 0)


def test_concurrent_identical_batches_store_each_point_once(database, committed_run):
    project, run_id = committed_run
    batch = _batch(run_id, range(500))
    errors = []

    def send():
        try:
            run_store.store_batch(database, project, batch)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _stored(database, run_id) == (500, 499, 0)


def test_a_changed_param_in_a_retry_still_fails_and_writes_nothing(database, committed_run):
    project, run_id = committed_run
    run_store.store_batch(database, project, _batch(run_id, range(10), [{"key": "lr", "value": "0.1"}]))
    with pytest.raises(MlflowError, match="Changing param values is not allowed"):
        run_store.store_batch(database, project, _batch(run_id, range(5, 20), [{"key": "lr", "value": "0.2"}]))
    assert _stored(database, run_id) == (10, 9, 1)


def test_other_integrity_errors_are_not_retried(database, committed_run):
    project, run_id = committed_run
    calls = []

    def also(conn):
        calls.append(1)
        # a duplicate of a different table: not a stored point, so no second attempt
        conn.execute(params.insert().values(run_uuid=run_id, key="dup", value="a"))
        conn.execute(params.insert().values(run_uuid=run_id, key="dup", value="b"))

    with pytest.raises(IntegrityError):
        run_store.store_batch(database, project, _batch(run_id, range(10)), also=also)
    assert calls == [1]
    assert _stored(database, run_id) == (0, None, 0)
