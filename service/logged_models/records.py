"""Logged models as the domain reads them: typed values, loaded in a few queries. Only service/api
turns them into MLflow's LoggedModel JSON."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from mltracker.service.db.registry_schema import logged_model_params, logged_model_tags, logged_models
from mltracker.service.logged_models.metrics import ModelMetric, metrics_by_model


@dataclass(frozen=True)
class LoggedModel:
    model_id: str
    experiment_id: int
    name: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    artifact_location: str
    status: int  # service/logged_models/status.py
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # by key
    params: dict[str, str] = field(default_factory=dict)  # by key
    metrics: tuple[ModelMetric, ...] = ()


def _pairs_by_model(conn: Connection, table, model_ids: list[str]) -> dict[str, dict[str, str]]:
    result = defaultdict(dict)
    for row in conn.execute(select(table).where(table.c.model_id.in_(model_ids)).order_by(table.c.key)):
        result[row.model_id][row.key] = row.value
    return result


def load_models(conn: Connection, rows: list) -> list[LoggedModel]:
    """Rows of the logged_models table as LoggedModel values, in order."""
    if not rows:
        return []
    ids = [r.model_id for r in rows]
    tags = _pairs_by_model(conn, logged_model_tags, ids)
    params = _pairs_by_model(conn, logged_model_params, ids)
    metrics = metrics_by_model(conn, ids)
    return [
        LoggedModel(
            r.model_id, r.experiment_id, r.name, r.creation_timestamp_ms, r.last_updated_timestamp_ms,
            r.artifact_location, r.status, r.model_type, r.source_run_id, r.status_message,
            tags[r.model_id], params[r.model_id], tuple(metrics[r.model_id]),
        )
        for r in rows
    ]


def load_model(conn: Connection, model_id: str) -> LoggedModel:
    return load_models(conn, [conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).one()])[0]
