"""Metrics logged against a logged model: `log_metric(..., model_id=…, dataset=…)` keeps the point
on the run as always, and here under the model, with the dataset it was measured on (as MLflow's
logged_model_metrics). `get_logged_model(id).metrics` lists them; search filters and sorts on them."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.db.registry_schema import logged_model_metrics
from mltracker.service.db.schema import datasets
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.logged_models import store as logged_model_store

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class ModelMetric:
    """One point logged against a logged model (the value a float: NaN and the infinities too)."""
    key: str
    value: float
    timestamp: int
    step: int
    model_id: str
    run_id: str | None
    dataset_name: str | None = None
    dataset_digest: str | None = None


_KEY = ["model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"]
_MAX_DOUBLE = 1.7976931348623157e308


def _stored_value(value: float) -> tuple[float, bool]:
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (_MAX_DOUBLE if value > 0 else -_MAX_DOUBLE), False
    return float(value), False


def _dataset_uuid(conn: Connection, experiment_id: int, name, digest) -> str | None:
    if not name or not digest:
        return None
    return conn.execute(
        select(datasets.c.dataset_uuid).where(
            datasets.c.experiment_id == experiment_id, datasets.c.name == name, datasets.c.digest == digest
        )
    ).scalar()


def record(conn: Connection, project_id: int, run_id: str, experiment_id: int, points: list[dict]) -> None:
    """Store the points that name a model_id (already validated as run metrics); the model must be
    one of the project's."""
    points = [p for p in points if p.get("model_id")]
    if not points:
        return
    for model_id in {p["model_id"] for p in points}:
        logged_model_store.get_row(conn, project_id, model_id)
    rows = {}
    for p in points:
        value, is_nan = _stored_value(float(p["value"]))
        row = {
            "model_id": p["model_id"], "metric_name": p["key"], "metric_timestamp_ms": int(p["timestamp"]),
            "metric_step": int(p.get("step") or 0), "run_id": run_id, "metric_value": value, "is_nan": is_nan,
            "experiment_id": experiment_id, "dataset_name": p.get("dataset_name") or None,
            "dataset_digest": p.get("dataset_digest") or None,
            "dataset_uuid": _dataset_uuid(conn, experiment_id, p.get("dataset_name"), p.get("dataset_digest")),
        }
        rows[tuple(row[k] for k in _KEY)] = row
    upsert_rows(conn, logged_model_metrics, list(rows.values()), _KEY, [])


def metrics_by_model(conn: Connection, model_ids: list[str]) -> dict[str, list[ModelMetric]]:
    result = defaultdict(list)
    if not model_ids:
        return result
    t = logged_model_metrics
    query = select(t).where(t.c.model_id.in_(model_ids)).order_by(
        t.c.model_id, t.c.metric_name, t.c.metric_timestamp_ms, t.c.metric_step, t.c.run_id
    )
    for r in conn.execute(query):
        result[r.model_id].append(ModelMetric(
            r.metric_name, NAN if r.is_nan else r.metric_value, r.metric_timestamp_ms, r.metric_step,
            r.model_id, r.run_id, r.dataset_name, r.dataset_digest,
        ))
    return result
