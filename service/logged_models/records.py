"""Logged model rows to MLflow's LoggedModel JSON ({"info": …, "data": …})."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from mltracker.service.db.registry_schema import logged_model_params, logged_model_tags, logged_models
from mltracker.service.logged_models.metrics import metrics_by_model
from mltracker.service.logged_models.status import NAMES


def _pairs_by_model(conn: Connection, table, model_ids: list[str]) -> dict[str, list[dict]]:
    result = defaultdict(list)
    for row in conn.execute(select(table).where(table.c.model_id.in_(model_ids)).order_by(table.c.key)):
        result[row.model_id].append({"key": row.key, "value": row.value})
    return result


def load_models(conn: Connection, rows: list) -> list[dict]:
    if not rows:
        return []
    ids = [r.model_id for r in rows]
    tags = _pairs_by_model(conn, logged_model_tags, ids)
    params = _pairs_by_model(conn, logged_model_params, ids)
    metrics = metrics_by_model(conn, ids)
    result = []
    for r in rows:
        info = {
            "model_id": r.model_id,
            "experiment_id": str(r.experiment_id),
            "name": r.name,
            "creation_timestamp_ms": r.creation_timestamp_ms,
            "last_updated_timestamp_ms": r.last_updated_timestamp_ms,
            "artifact_uri": r.artifact_location,
            "status": NAMES.get(r.status, NAMES[0]),
        }
        if r.model_type is not None:
            info["model_type"] = r.model_type
        if r.source_run_id is not None:
            info["source_run_id"] = r.source_run_id
        if r.status_message is not None:
            info["status_message"] = r.status_message
        if tags[r.model_id]:
            info["tags"] = tags[r.model_id]
        data = {"params": params[r.model_id]} if params[r.model_id] else {}
        if metrics[r.model_id]:
            data["metrics"] = metrics[r.model_id]
        result.append({"info": info, "data": data})
    return result


def load_model(conn: Connection, model_id: str) -> dict:
    return load_models(conn, [conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).one()])[0]
