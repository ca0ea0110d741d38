"""One metric, param or tag per request, the way a training loop logs (a synchronous call per
step), and on PostgreSQL a log-batch of metric points only: the rules of runs.write_batch, in as
few statements as the database allows, on the driver connection (db/raw.py).

SQLite: BEGIN IMMEDIATE, the run's state, the row, COMMIT, all in this process.
PostgreSQL: one statement in autocommit, so one round trip, committed when it answers. Its
data-modifying CTEs write only when the run is an active run of the project, and it returns the
run's state (and, for a param, the value already stored), from which the error is raised when
nothing could be written.

Callers send what needs more (model metrics, `mlflow.runName`, CI link tags) through write_batch.
"""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import and_, bindparam, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mltracker.service.db import pg_arrays, raw
from mltracker.service.db.engine import Database
from mltracker.service.db.schema import latest_metrics, metrics, params, runs, tags
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.runs import (
    METRIC_COLUMNS,
    Batch,
    check_params_unchanged,
    check_run_active,
    check_run_found,
    is_stored_point,
    store_batch,
)

_LATEST_SET = ("value", "timestamp", "step", "is_nan")


class StoredConcurrently(Exception):
    """A param was stored by a concurrent request between our read and our insert: the caller
    decides again on the general path, which sees the committed value."""


def log_metric(db: Database, project_id: int, batch: Batch) -> None:
    """batch: prepared by runs.prepare_batch with exactly one metric point."""
    (row,) = batch.metric_rows
    values = dict(zip(METRIC_COLUMNS, row))
    if db.is_sqlite:
        with raw.write_transaction(db) as cursor:
            _check_state(cursor.one(_state(db), {"run_uuid": batch.run_id}), project_id, batch.run_id)
            cursor.run(raw.compiled(db, "insert_point", _sqlite_insert_point, METRIC_COLUMNS), values)
            cursor.run(raw.compiled(db, "upsert_latest", _sqlite_upsert_latest, METRIC_COLUMNS), values)
        return
    state = raw.autocommitted_one(db, raw.compiled(db, "pg_log_metric", _pg_log_metric),
                                  {**values, "project_id": project_id, "active": exps.ACTIVE})
    _check_state(state, project_id, batch.run_id)


def log_metric_batch(db: Database, project_id: int, batch: Batch) -> None:
    """PostgreSQL, a log-batch of metric points only (prepared by runs.prepare_batch): the points
    and the newest point per key in one autocommitted statement, one array per column (pg_arrays),
    instead of a transaction of six round trips. The points go in with a plain INSERT, as
    runs.store_batch does first; a batch with a point already stored (a retry) fails whole and
    goes to store_batch, which skips stored points."""
    columns = dict(zip(METRIC_COLUMNS[1:], list(zip(*batch.metric_rows))[1:]))
    latest = dict(zip(METRIC_COLUMNS[1:], list(zip(*batch.latest_rows))[1:]))
    values = {"run_uuid": batch.run_id, "project_id": project_id, "active": exps.ACTIVE,
              **{name: _array(metrics, name, column) for name, column in columns.items()},
              **{f"latest_{name}": _array(latest_metrics, name, column) for name, column in latest.items()}}
    try:
        state = raw.autocommitted_one(db, raw.compiled(db, "pg_log_metric_batch", _pg_log_metric_batch), values)
    except IntegrityError as exc:
        if not is_stored_point(exc):
            raise
        store_batch(db, project_id, batch)
        return
    _check_state(state, project_id, batch.run_id)


def _array(table, name: str, column: tuple):
    return pg_arrays.encode_column(table.c[name].type, column)


def log_param(db: Database, project_id: int, run_id: str, key: str, value: str) -> None:
    """Raises StoredConcurrently when another request stored the key at the same moment."""
    values = {"run_uuid": run_id, "key": key, "value": value}
    if db.is_sqlite:
        with raw.write_transaction(db) as cursor:
            _check_state(cursor.one(_state(db), values), project_id, run_id)
            stored = cursor.one(raw.compiled(db, "stored_param", _stored_param), values)
            if stored is not None:
                check_params_unchanged(run_id, {key: stored[0]}, {key: value})
                return
            cursor.run(raw.compiled(db, "insert_param", _sqlite_insert_param, ("run_uuid", "key", "value")), values)
        return
    state = raw.autocommitted_one(db, raw.compiled(db, "pg_log_param", _pg_log_param),
                                  {**values, "project_id": project_id, "active": exps.ACTIVE})
    _check_state(state, project_id, run_id)
    stored, inserted = state[2], state[3]
    if stored is not None:
        check_params_unchanged(run_id, {key: stored}, {key: value})
    elif not inserted:
        raise StoredConcurrently()


def set_tag(db: Database, project_id: int, run_id: str, key: str, value: str) -> None:
    """Not for `mlflow.runName` (which also renames the run): write_batch does that."""
    values = {"run_uuid": run_id, "key": key, "value": value}
    if db.is_sqlite:
        with raw.write_transaction(db) as cursor:
            _check_state(cursor.one(_state(db), values), project_id, run_id)
            cursor.run(raw.compiled(db, "upsert_tag", _sqlite_upsert_tag, ("run_uuid", "key", "value")), values)
        return
    state = raw.autocommitted_one(db, raw.compiled(db, "pg_set_tag", _pg_set_tag),
                                  {**values, "project_id": project_id, "active": exps.ACTIVE})
    _check_state(state, project_id, run_id)


class _RunState(NamedTuple):
    project_id: int
    lifecycle_stage: str


def _check_state(row, project_id: int, run_id: str) -> None:
    """row: (project_id, lifecycle_stage, …) of the run, or None."""
    state = _RunState(row[0], row[1]) if row is not None else None
    check_run_found(state, project_id, run_id)
    check_run_active(state, run_id)


# ---------------------------------------------------------------- statements, compiled once

def _state(db: Database) -> raw.Compiled:
    return raw.compiled(db, "run_state", lambda _dialect: _run_state())


def _run_state():
    return select(runs.c.project_id, runs.c.lifecycle_stage).where(runs.c.run_uuid == bindparam("run_uuid"))


def _writable(run):
    return and_(run.c.project_id == bindparam("project_id"), run.c.lifecycle_stage == bindparam("active"))


def _newer_than_latest(excluded):
    return tuple_(excluded.step, excluded.timestamp, excluded.value) > tuple_(
        latest_metrics.c.step, latest_metrics.c.timestamp, latest_metrics.c.value)


def _sqlite_insert_point(_dialect):
    return sqlite_insert(metrics).on_conflict_do_nothing()


def _sqlite_upsert_latest(_dialect):
    stmt = sqlite_insert(latest_metrics)
    return stmt.on_conflict_do_update(index_elements=["run_uuid", "key"],
                                      set_={c: stmt.excluded[c] for c in _LATEST_SET},
                                      where=_newer_than_latest(stmt.excluded))


def _stored_param(_dialect):
    return select(params.c.value).where(params.c.run_uuid == bindparam("run_uuid"), params.c.key == bindparam("key"))


def _sqlite_insert_param(_dialect):
    return sqlite_insert(params).on_conflict_do_nothing()


def _sqlite_upsert_tag(_dialect):
    stmt = sqlite_insert(tags)
    return stmt.on_conflict_do_update(index_elements=["run_uuid", "key"], set_={"value": stmt.excluded.value})


def _values_if_writable(run, table, columns):
    return select(*[bindparam(c, type_=table.c[c].type) for c in columns]).select_from(run).where(_writable(run))


def _pg_log_metric(_dialect):
    run = _run_state().cte("run")
    point = _values_if_writable(run, metrics, METRIC_COLUMNS)
    inserted = pg_insert(metrics).from_select(list(METRIC_COLUMNS), point).on_conflict_do_nothing()
    latest = pg_insert(latest_metrics).from_select(list(METRIC_COLUMNS), point)
    latest = latest.on_conflict_do_update(index_elements=["run_uuid", "key"],
                                          set_={c: latest.excluded[c] for c in _LATEST_SET},
                                          where=_newer_than_latest(latest.excluded))
    return select(run.c.project_id, run.c.lifecycle_stage).add_cte(inserted.cte("point"), latest.cte("latest"))


def _pg_log_metric_batch(_dialect):
    run = _run_state().cte("run")

    def points(table, prefix: str):
        return select(
            bindparam("run_uuid", type_=runs.c.run_uuid.type).label("run_uuid"),
            *[func.unnest(bindparam(prefix + c, type_=ARRAY(table.c[c].type))).label(c) for c in METRIC_COLUMNS[1:]],
        ).select_from(run).where(_writable(run))

    inserted = pg_insert(metrics).from_select(list(METRIC_COLUMNS), points(metrics, ""))
    latest = pg_insert(latest_metrics).from_select(list(METRIC_COLUMNS), points(latest_metrics, "latest_"))
    latest = latest.on_conflict_do_update(index_elements=["run_uuid", "key"],
                                          set_={c: latest.excluded[c] for c in _LATEST_SET},
                                          where=_newer_than_latest(latest.excluded))
    return select(run.c.project_id, run.c.lifecycle_stage).add_cte(inserted.cte("points"), latest.cte("latest"))


def _pg_log_param(_dialect):
    run = _run_state().cte("run")
    stored = _stored_param(None).cte("stored")
    row = _values_if_writable(run, params, ("run_uuid", "key", "value")).where(~exists(select(stored.c.value)))
    new = (pg_insert(params).from_select(["run_uuid", "key", "value"], row).on_conflict_do_nothing()
           .returning(params.c.key).cte("new"))
    return select(run.c.project_id, run.c.lifecycle_stage, select(stored.c.value).scalar_subquery(),
                  select(func.count()).select_from(new).scalar_subquery())


def _pg_set_tag(_dialect):
    run = _run_state().cte("run")
    upsert = pg_insert(tags).from_select(["run_uuid", "key", "value"],
                                         _values_if_writable(run, tags, ("run_uuid", "key", "value")))
    upsert = upsert.on_conflict_do_update(index_elements=["run_uuid", "key"], set_={"value": upsert.excluded.value})
    return select(run.c.project_id, run.c.lifecycle_stage).add_cte(upsert.cte("tag"))
