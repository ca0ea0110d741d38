"""Runs (candidates): lifecycle, and logging of params, metrics and tags."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from sqlalchemy import Connection, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mltracker.service.db.engine import Database
from mltracker.service.db.schema import latest_metrics, metrics, params, runs, tags
from mltracker.service.db.bulk import execute_as_arrays, executemany, unnest_rows
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.errors import invalid, not_found
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.clock import now_ms
from mltracker.service.tracking.metric_rows import stored_value
from mltracker.service.tracking.run_names import generate_run_name
from mltracker.service.tracking.validation import (
    MAX_PARAM_VAL_LENGTH,
    MAX_RUN_NAME_LENGTH,
    MAX_TAG_VAL_LENGTH,
    check_length,
    validate_batch_limits,
    validate_metric,
    validate_param,
    validate_param_keys_unique,
    truncated,
    validate_run_id,
    validate_tag,
)

RUN_NAME_TAG = "mlflow.runName"
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    timestamp: int
    step: int

    def row(self, run_id: str) -> tuple:
        """In METRIC_COLUMNS order."""
        value, is_nan = stored_value(float(self.value))
        return (run_id, self.key, self.timestamp, self.step, value, is_nan)


# The metrics table's column order, which is also its primary key's.
METRIC_COLUMNS = ("run_uuid", "key", "timestamp", "step", "value", "is_nan")


def get_run_row(conn: Connection, project_id: int, run_id):
    validate_run_id(run_id)
    row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first()
    check_run_found(row, project_id, run_id)
    return row


def check_run_found(row, project_id: int, run_id: str) -> None:
    """row: the run's row (or any row with its project_id), None when there is no such run."""
    if row is None or row.project_id != project_id:
        raise not_found(f"Run with id={run_id} not found")


def check_run_active(row, run_id: str) -> None:
    if row.lifecycle_stage != exps.ACTIVE:
        raise invalid(
            f"The run {run_id} must be in the 'active' state. Current state is {row.lifecycle_stage}."
        )


def run_in_project(conn: Connection, project_id: int, run_id: str) -> bool:
    return conn.execute(
        select(runs.c.run_uuid).where(runs.c.run_uuid == run_id, runs.c.project_id == project_id)
    ).first() is not None


def runs_in_project(conn: Connection, project_id: int, run_ids: list[str]) -> set[str]:
    """Those of run_ids that are runs of the project."""
    wanted = [r for r in set(run_ids) if isinstance(r, str)]
    if not wanted:
        return set()
    query = select(runs.c.run_uuid).where(runs.c.project_id == project_id, runs.c.run_uuid.in_(wanted))
    return set(conn.execute(query).scalars())


def get_active_run_row(conn: Connection, project_id: int, run_id):
    row = get_run_row(conn, project_id, run_id)
    check_run_active(row, run_id)
    return row


def create_run(
    conn: Connection,
    project_id: int,
    experiment_id: int,
    user_id: str | None,
    start_time: int | None,
    run_tags: list[dict],
    run_name: str | None,
) -> str:
    experiment = exps.get_experiment_row(conn, project_id, experiment_id)
    if experiment.lifecycle_stage != exps.ACTIVE:
        raise invalid(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )
    run_tags = [{**t, "value": truncated(t.get("value"), MAX_TAG_VAL_LENGTH)} for t in run_tags]
    for index, tag in enumerate(run_tags):
        validate_tag(tag.get("key"), tag.get("value"), path=f"tags[{index}]")
    name_tag = next((t.get("value") for t in run_tags if t.get("key") == RUN_NAME_TAG), None)
    if run_name and name_tag and run_name != name_tag:
        raise invalid(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
            f"different values (run_name='{run_name}', mlflow.runName='{name_tag}')."
        )
    run_name = run_name or name_tag or generate_run_name()
    check_length("run_name", MAX_RUN_NAME_LENGTH, run_name)
    run_tags = [t for t in run_tags if t.get("key") != RUN_NAME_TAG]
    run_tags.append({"key": RUN_NAME_TAG, "value": run_name})
    run_id = uuid.uuid4().hex
    conn.execute(
        runs.insert().values(
            run_uuid=run_id,
            experiment_id=experiment_id,
            project_id=project_id,
            name=run_name,
            user_id=user_id or "",
            status="RUNNING",
            start_time=start_time if start_time is not None else now_ms(),
            lifecycle_stage=exps.ACTIVE,
            artifact_uri=f"{experiment.artifact_location}/{run_id}/artifacts",
        )
    )
    upsert_rows(
        conn, tags, [{"run_uuid": run_id, "key": t["key"], "value": t.get("value") or ""} for t in run_tags],
        ["run_uuid", "key"], ["value"],
    )
    return run_id


def update_run(conn: Connection, project_id: int, run_id: str, status, end_time, run_name) -> None:
    get_active_run_row(conn, project_id, run_id)
    values = {}
    if status in RUN_STATUSES:  # MLflow's server drops an unknown status and keeps the run as is
        values["status"] = status
    if end_time is not None:
        values["end_time"] = end_time
    if run_name:
        check_length("run_name", MAX_RUN_NAME_LENGTH, run_name)
        values["name"] = run_name
        upsert_rows(conn, tags, [{"run_uuid": run_id, "key": RUN_NAME_TAG, "value": run_name}],
                    ["run_uuid", "key"], ["value"])
    if values:
        conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(**values))


def set_lifecycle(conn: Connection, project_id: int, run_id: str, stage: str) -> None:
    get_run_row(conn, project_id, run_id)
    conn.execute(
        update(runs)
        .where(runs.c.run_uuid == run_id)
        .values(lifecycle_stage=stage, deleted_time=now_ms() if stage == exps.DELETED else None)
    )


@dataclass(frozen=True)
class Batch:
    """A validated log-batch, ready to write: built before the write transaction starts, so the
    database's write lock (one writer at a time on SQLite) covers only the inserts."""
    run_id: str
    metric_rows: list[tuple]  # METRIC_COLUMNS order
    latest_rows: list[tuple]  # the newest point per key within the batch
    params: list[dict]
    tags: list[dict]


def prepare_batch(run_id: str, metric_points: list[MetricPoint], param_items: list[dict],
                  tag_items: list[dict], metric_rows: list[tuple] | None = None) -> Batch:
    """metric_rows: rows already checked by metric_rows.fast_metric_rows, instead of metric_points."""
    n_metrics = len(metric_rows) if metric_rows is not None else len(metric_points)
    validate_batch_limits(n_metrics, len(param_items), len(tag_items))
    param_items = [{**p, "value": truncated(p.get("value"), MAX_PARAM_VAL_LENGTH)} for p in param_items]
    tag_items = [{**t, "value": truncated(t.get("value"), MAX_TAG_VAL_LENGTH)} for t in tag_items]
    if metric_rows is None:
        for index, m in enumerate(metric_points):
            validate_metric(m.key, m.value, m.timestamp, m.step, path=f"metrics[{index}]")
        metric_rows = [p.row(run_id) for p in metric_points]
    for index, p in enumerate(param_items):
        validate_param(p.get("key"), p.get("value"), path=f"params[{index}]")
    for index, t in enumerate(tag_items):
        validate_tag(t.get("key"), t.get("value"), path=f"tags[{index}]")
    validate_param_keys_unique([p["key"] for p in param_items])
    return Batch(run_id, metric_rows, _newest_per_key(metric_rows), param_items, tag_items)


def _newest_per_key(rows: list[tuple]) -> list[tuple]:
    """Per key, the row with the greatest (step, timestamp, value), as latest_metrics keeps."""
    newest: dict[str, tuple] = {}
    for row in rows:
        current = newest.get(row[1])
        if current is None or (row[3], row[2], row[4]) > (current[3], current[2], current[4]):
            newest[row[1]] = row
    return list(newest.values())


def write_batch(conn: Connection, project_id: int, batch: Batch, skip_stored: bool = True) -> None:
    """Everything or nothing. skip_stored: points already stored are skipped (ON CONFLICT DO
    NOTHING), so a retried batch is a no-op; without it they raise IntegrityError (store_batch)."""
    get_active_run_row(conn, project_id, batch.run_id)
    _log_params(conn, batch.run_id, batch.params)
    _log_tags(conn, batch.run_id, batch.tags)
    if batch.metric_rows:
        dialect = conn.dialect.name
        write = execute_as_arrays if dialect == "postgresql" else executemany
        write(conn, _insert_points(dialect, skip_stored), METRIC_COLUMNS, batch.metric_rows)
        write(conn, _upsert_latest(dialect), METRIC_COLUMNS, batch.latest_rows)


def store_batch(db: Database, project_id: int, batch: Batch,
                also: Callable[[Connection], None] | None = None) -> None:
    """write_batch (and `also`) in one transaction of its own.

    On PostgreSQL the points go in with a plain INSERT first: ON CONFLICT's speculative insertion
    costs ~40% more per row, and only a retried batch has points already stored. Such a batch
    fails with a duplicate key and runs again, whole, with ON CONFLICT DO NOTHING. (SQLite skips
    conflicts at no extra cost, so it always does.)"""
    try:
        _write_in_transaction(db, project_id, batch, also, skip_stored=db.is_sqlite)
    except IntegrityError as exc:
        if db.is_sqlite or not is_stored_point(exc):
            raise
        _write_in_transaction(db, project_id, batch, also, skip_stored=True)


def _write_in_transaction(db: Database, project_id: int, batch: Batch,
                          also: Callable[[Connection], None] | None, skip_stored: bool) -> None:
    with db.write() as conn:
        write_batch(conn, project_id, batch, skip_stored=skip_stored)
        if also:
            also(conn)


def is_stored_point(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(exc.orig, "sqlstate", None) == "23505" and getattr(diag, "table_name", None) == "metrics"


def log_batch(conn: Connection, project_id: int, run_id: str, metric_points: list[MetricPoint],
              param_items: list[dict], tag_items: list[dict]) -> None:
    write_batch(conn, project_id, prepare_batch(run_id, metric_points, param_items, tag_items))


def _log_params(conn: Connection, run_id: str, items: list[dict]) -> None:
    if not items:
        return
    wanted = {p["key"]: str(p["value"]) for p in items}
    existing = dict(
        conn.execute(
            select(params.c.key, params.c.value).where(
                params.c.run_uuid == run_id, params.c.key.in_(list(wanted))
            )
        ).all()
    )
    check_params_unchanged(run_id, existing, wanted)
    upsert_rows(
        conn, params,
        [{"run_uuid": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing],
        ["run_uuid", "key"], [],
    )


def _log_tags(conn: Connection, run_id: str, items: list[dict]) -> None:
    if not items:
        return
    latest = {t["key"]: t.get("value") or "" for t in items}  # last value wins within a batch
    upsert_rows(conn, tags, [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items()],
                ["run_uuid", "key"], ["value"])
    if RUN_NAME_TAG in latest:
        conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(name=latest[RUN_NAME_TAG]))


def check_params_unchanged(run_id: str, stored: dict[str, str], wanted: dict[str, str]) -> None:
    """MLflow refuses a param logged again with another value (the same value is a no-op)."""
    changed = [
        {"key": k, "old_value": stored[k], "new_value": v}
        for k, v in wanted.items()
        if k in stored and stored[k] != v
    ]
    if changed:
        raise invalid(
            "Changing param values is not allowed. Params were already"
            f" logged='{changed}' for run ID='{run_id}'."
        )


def _insert_into(dialect: str, table):
    if dialect == "postgresql":
        return pg_insert(table).from_select(list(METRIC_COLUMNS), unnest_rows(table, METRIC_COLUMNS))
    return sqlite_insert(table)


@lru_cache(maxsize=None)
def _insert_points(dialect: str, skip_stored: bool):
    stmt = _insert_into(dialect, metrics)
    return stmt.on_conflict_do_nothing() if skip_stored else stmt


@lru_cache(maxsize=None)
def _upsert_latest(dialect: str):
    """Keep the point with the greatest (step, timestamp, value), whatever order batches arrive in."""
    stmt = _insert_into(dialect, latest_metrics)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["run_uuid", "key"],
        set_={c: excluded[c] for c in ("value", "timestamp", "step", "is_nan")},
        where=tuple_(excluded.step, excluded.timestamp, excluded.value)
        > tuple_(latest_metrics.c.step, latest_metrics.c.timestamp, latest_metrics.c.value),
    )


def delete_tag(conn: Connection, project_id: int, run_id: str, key) -> None:
    get_active_run_row(conn, project_id, run_id)
    removed = conn.execute(delete(tags).where(tags.c.run_uuid == run_id, tags.c.key == key)).rowcount
    if not removed:
        raise not_found(f"No tag with name: {key} in run with id {run_id}")


LOGGED_MODELS_TAG = "mlflow.log-model.history"
_MODEL_REQUIRED = {"artifact_path", "flavors", "utc_time_created", "run_id"}
_MODEL_TAG_KEYS = ("run_id", "utc_time_created", "artifact_path", "model_uuid")


def record_logged_model(conn: Connection, project_id: int, run_id: str, model_json: str) -> None:
    """Append the model's summary to the run's `mlflow.log-model.history` tag, as MLflow does."""
    try:
        model = json.loads(model_json)
    except ValueError:
        raise invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.") from None
    if not isinstance(model, dict):
        raise invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.")
    missing = _MODEL_REQUIRED - set(model)
    if missing:
        raise invalid(f"Model json is missing mandatory fields: {missing}")
    summary = {k: model[k] for k in _MODEL_TAG_KEYS if k in model}
    summary["flavors"] = {
        name: ({k: v for k, v in config.items() if k != "config"} if isinstance(config, dict) else config)
        for name, config in (model.get("flavors") or {}).items()
    }
    get_active_run_row(conn, project_id, run_id)
    previous = conn.execute(
        select(tags.c.value).where(tags.c.run_uuid == run_id, tags.c.key == LOGGED_MODELS_TAG)
    ).scalar()
    value = json.dumps((json.loads(previous) if previous else []) + [summary])
    validate_tag(LOGGED_MODELS_TAG, value)
    upsert_rows(conn, tags, [{"run_uuid": run_id, "key": LOGGED_MODELS_TAG, "value": value}],
                ["run_uuid", "key"], ["value"])
