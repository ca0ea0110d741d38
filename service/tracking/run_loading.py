"""Load whole runs (info, data, inputs, outputs) for many run ids with one query per table."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from mltracker.service.db.id_lists import among
from mltracker.service.db.schema import latest_metrics, params, runs, tags
from mltracker.service.tracking.inputs import load_inputs_outputs
from mltracker.service.tracking.serialize import json_double, run_info_json


# Keeps each IN (...) list well under SQLite's bound-parameter limit.
CHUNK = 2000


def load_runs(conn: Connection, run_ids: list[str]) -> list[dict]:
    """Runs as MLflow JSON, in the order of run_ids."""
    result = []
    for start in range(0, len(run_ids), CHUNK):
        result.extend(_load_chunk(conn, run_ids[start : start + CHUNK]))
    return result


def _load_chunk(conn: Connection, run_ids: list[str]) -> list[dict]:
    rows = {r.run_uuid: r for r in conn.execute(select(runs).where(among(conn, runs.c.run_uuid, run_ids)))}
    metric_map = defaultdict(list)
    for run_uuid, key, value, timestamp, step, is_nan in conn.execute(
        select(latest_metrics.c.run_uuid, latest_metrics.c.key, latest_metrics.c.value, latest_metrics.c.timestamp,
               latest_metrics.c.step, latest_metrics.c.is_nan)
        .where(among(conn, latest_metrics.c.run_uuid, run_ids)).order_by(latest_metrics.c.key)
    ):
        metric_map[run_uuid].append(
            {"key": key, "value": json_double(value, is_nan), "timestamp": timestamp, "step": step}
        )
    param_map = _key_values(conn, params, run_ids)
    tag_map = _key_values(conn, tags, run_ids)
    io = load_inputs_outputs(conn, run_ids)
    result = []
    for run_id in run_ids:
        row = rows.get(run_id)
        if row is None:
            continue
        inputs, outputs = io[run_id]
        run = {
            "info": run_info_json(row),
            "data": {"metrics": metric_map[run_id], "params": param_map[run_id], "tags": tag_map[run_id]},
            "inputs": inputs,
        }
        if outputs:
            run["outputs"] = outputs
        result.append(run)
    return result


def _key_values(conn: Connection, table, run_ids: list[str]) -> dict[str, list[dict]]:
    result = defaultdict(list)
    for run_uuid, key, value in conn.execute(
        select(table.c.run_uuid, table.c.key, table.c.value)
        .where(among(conn, table.c.run_uuid, run_ids))
        .order_by(table.c.key)
    ):
        result[run_uuid].append({"key": key, "value": value})
    return result


def load_new_run(conn: Connection, run_id: str) -> dict:
    """A run just created: its info and tags (it has no metrics, params or inputs yet)."""
    row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).one()
    return {
        "info": run_info_json(row),
        "data": {"metrics": [], "params": [], "tags": _key_values(conn, tags, [run_id])[run_id]},
        "inputs": {"dataset_inputs": []},
    }
