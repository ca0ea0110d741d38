"""Load whole runs (info, latest metrics, params, tags, inputs, outputs) for many run ids with one
query per table, as typed values (service/tracking/run_records.py)."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from mltracker.service.db.id_lists import among
from mltracker.service.db.schema import latest_metrics, params, runs, tags
from mltracker.service.tracking.inputs import load_inputs_outputs
from mltracker.service.tracking.run_records import NO_INPUTS, Metric, Run, RunInfo

NAN = float("nan")

# Keeps each IN (...) list well under SQLite's bound-parameter limit.
CHUNK = 2000
# RunInfo's fields, in order: a row of these is made into a RunInfo in C (RunInfo._make), not
# by nine lookups by name (a third of the runs query's cost on a page of runs).
_INFO_COLUMNS = (runs.c.run_uuid, runs.c.name, runs.c.experiment_id, runs.c.user_id, runs.c.status,
                 runs.c.start_time, runs.c.end_time, runs.c.artifact_uri, runs.c.lifecycle_stage)


def load_runs(conn: Connection, run_ids: list[str], *, with_inputs: bool = True) -> list[Run]:
    """Runs in the order of run_ids (ids of no run are left out). Without inputs: two queries fewer,
    for callers that compare candidates."""
    result = []
    for start in range(0, len(run_ids), CHUNK):
        result.extend(_load_chunk(conn, run_ids[start : start + CHUNK], with_inputs))
    return result


def _load_chunk(conn: Connection, run_ids: list[str], with_inputs: bool) -> list[Run]:
    # .all(): one fetchall from the driver, where iterating the result fetches row by row.
    rows = {r[0]: r for r in conn.execute(select(*_INFO_COLUMNS).where(among(conn, runs.c.run_uuid, run_ids))).all()}
    metric_map = defaultdict(list)
    for run_uuid, key, value, timestamp, step, is_nan in conn.execute(
        select(latest_metrics.c.run_uuid, latest_metrics.c.key, latest_metrics.c.value, latest_metrics.c.timestamp,
               latest_metrics.c.step, latest_metrics.c.is_nan)
        .where(among(conn, latest_metrics.c.run_uuid, run_ids)).order_by(latest_metrics.c.key)
    ).all():
        metric_map[run_uuid].append(Metric(key, NAN if is_nan else value, timestamp, step))
    param_map = _key_values(conn, params, run_ids)
    tag_map = _key_values(conn, tags, run_ids)
    io = load_inputs_outputs(conn, run_ids) if with_inputs else {}
    result = []
    for run_id in run_ids:
        row = rows.get(run_id)
        if row is None:
            continue
        inputs, outputs = io.get(run_id, (NO_INPUTS, ()))
        result.append(Run(RunInfo._make(row), tuple(metric_map[run_id]), param_map[run_id], tag_map[run_id],
                          inputs, outputs))
    return result


def _key_values(conn: Connection, table, run_ids: list[str]) -> dict[str, dict[str, str]]:
    result = defaultdict(dict)
    for run_uuid, key, value in conn.execute(
        select(table.c.run_uuid, table.c.key, table.c.value)
        .where(among(conn, table.c.run_uuid, run_ids))
        .order_by(table.c.key)
    ).all():
        result[run_uuid][key] = value
    return result


def load_new_run(conn: Connection, run_id: str) -> Run:
    """A run just created: its info and tags (it has no metrics, params or inputs yet)."""
    row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).one()
    return Run(RunInfo.from_row(row), tags=_key_values(conn, tags, [run_id])[run_id])
