"""single_writes (one metric, param or tag per call, on the driver connection) on SQLite and
PostgreSQL: the same rules and the same stored rows as write_batch, nothing written for a run it
may not write to, and nothing lost when many calls land at once."""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from mltracker.service.db.schema import latest_metrics, metrics, params, tags
from mltracker.service.errors import MlflowError
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking import single_writes

def _metric(database, project, run_id, step, value, timestamp=1000):
    point = run_store.MetricPoint("loss", value, timestamp, step)
    single_writes.log_metric(database, project, run_store.prepare_batch(run_id, [point], [], []))


def _points(database, run_id):
    with database.read() as conn:
        history = conn.execute(select(metrics.c.step, metrics.c.value, metrics.c.is_nan)
                               .where(metrics.c.run_uuid == run_id).order_by(metrics.c.step)).all()
        latest = conn.execute(select(latest_metrics.c.step, latest_metrics.c.value)
                              .where(latest_metrics.c.run_uuid == run_id)).all()
    return [tuple(r) for r in history], [tuple(r) for r in latest]


def _rows(database, table, run_id):
    with database.read() as conn:
        return dict(conn.execute(select(table.c.key, table.c.value).where(table.c.run_uuid == run_id)).all())


def test_points_are_stored_and_the_greatest_step_is_the_latest_whatever_the_order(database, committed_run):
    project, run_id = committed_run
    for step in (5, 3, 7, 6):
        _metric(database, project, run_id, step, step * 0.5)
    _metric(database, project, run_id, 7, 3.5)  # the same point again: stored once
    history, latest = _points(database, run_id)
    assert history == [(3, 1.5, False), (5, 2.5, False), (6, 3.0, False), (7, 3.5, False)]
    assert latest == [(7, 3.5)]


def test_nan_is_stored_as_nan(database, committed_run):
    project, run_id = committed_run
    _metric(database, project, run_id, 0, float("nan"))
    (step, _value, is_nan), = _points(database, run_id)[0]
    assert (step, is_nan) == (0, True)


@pytest.mark.parametrize("write", ["metric", "param", "tag"])
def test_an_unknown_run_or_another_projects_run_is_not_found_and_nothing_is_written(database, committed_run, write):
    project, run_id = committed_run
    calls = {
        "metric": lambda p, r: _metric(database, p, r, 0, 1.0),
        "param": lambda p, r: single_writes.log_param(database, p, r, "lr", "0.1"),
        "tag": lambda p, r: single_writes.set_tag(database, p, r, "team", "a"),
    }
    for other_project, target in ((project, "f" * 32), (project + 1000, run_id)):
        with pytest.raises(MlflowError) as caught:
            calls[write](other_project, target)
        assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert f"Run with id={target} not found" in str(caught.value)
    assert _points(database, run_id) == ([], [])
    assert _rows(database, params, run_id) == {}
    assert "team" not in _rows(database, tags, run_id)


@pytest.mark.parametrize("write", ["metric", "param", "tag"])
def test_a_deleted_run_refuses_and_nothing_is_written(database, committed_run, write):
    project, run_id = committed_run
    with database.write() as conn:
        run_store.set_lifecycle(conn, project, run_id, exps.DELETED)
    calls = {
        "metric": lambda: _metric(database, project, run_id, 0, 1.0),
        "param": lambda: single_writes.log_param(database, project, run_id, "lr", "0.1"),
        "tag": lambda: single_writes.set_tag(database, project, run_id, "team", "a"),
    }
    with pytest.raises(MlflowError) as caught:
        calls[write]()
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "must be in the 'active' state. Current state is deleted." in str(caught.value)
    assert _points(database, run_id) == ([], [])
    assert _rows(database, params, run_id) == {}
    assert "team" not in _rows(database, tags, run_id)


def test_a_param_logged_again_with_its_value_is_a_no_op_and_with_another_is_refused(database, committed_run):
    project, run_id = committed_run
    single_writes.log_param(database, project, run_id, "lr", "0.1")
    single_writes.log_param(database, project, run_id, "lr", "0.1")
    with pytest.raises(MlflowError) as caught:
        single_writes.log_param(database, project, run_id, "lr", "0.2")
    assert "Changing param values is not allowed" in str(caught.value)
    assert "'old_value': '0.1', 'new_value': '0.2'" in str(caught.value)
    assert _rows(database, params, run_id) == {"lr": "0.1"}


def test_a_param_stored_by_a_concurrent_transaction_is_never_overwritten(database, committed_run):
    """Another transaction inserts the key and commits while our call waits for it: SQLite's write
    lock makes us read its value (refused); PostgreSQL's insert finds the conflict after our
    snapshot, and the caller is told to decide again (the API then goes through write_batch)."""
    project, run_id = committed_run
    outcome = []
    with database.write() as conn:
        conn.execute(params.insert().values(run_uuid=run_id, key="lr", value="0.1"))

        def ours():
            try:
                single_writes.log_param(database, project, run_id, "lr", "0.2")
                outcome.append("written")
            except (MlflowError, single_writes.StoredConcurrently) as exc:
                outcome.append(exc)

        thread = threading.Thread(target=ours)
        thread.start()
        thread.join(timeout=1.0)  # blocked behind the uncommitted insert
        assert thread.is_alive()
    thread.join(timeout=30)
    (result,) = outcome
    if database.is_sqlite:
        assert isinstance(result, MlflowError) and "Changing param values" in str(result)
    else:
        assert isinstance(result, single_writes.StoredConcurrently)
    assert _rows(database, params, run_id) == {"lr": "0.1"}


def test_a_tag_set_again_keeps_the_last_value(database, committed_run):
    project, run_id = committed_run
    for value in ("a", "b", "c"):
        single_writes.set_tag(database, project, run_id, "stage", value)
    assert _rows(database, tags, run_id)["stage"] == "c"


def test_many_calls_at_once_lose_nothing(database, committed_run):
    project, run_id = committed_run
    threads, steps = 8, 25

    def work(t: int):
        for i in range(steps):
            step = t * 1000 + i
            _metric(database, project, run_id, step, float(step), timestamp=2000 + i)
            single_writes.log_param(database, project, run_id, f"p{t}-{i}", str(step))
            single_writes.set_tag(database, project, run_id, f"last-{t}", str(i))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    history, latest = _points(database, run_id)
    assert [s for s, _v, _n in history] == sorted(t * 1000 + i for t in range(threads) for i in range(steps))
    top = (threads - 1) * 1000 + steps - 1
    assert latest == [(top, float(top))]
    assert _rows(database, params, run_id) == {f"p{t}-{i}": str(t * 1000 + i) for t in range(threads) for i in range(steps)}
    stored_tags = _rows(database, tags, run_id)
    assert all(stored_tags[f"last-{t}"] == str(steps - 1) for t in range(threads))
    assert not math.isnan(latest[0][1])
