"""Read queries the pages need beyond the domain functions: one bounded query each, no N+1.

Run pages use service.search.runs for ids and service.tracking.run_loading.load_runs for the rows
(service.comparison.candidates where candidates are compared); this module adds the counts, column
discovery and the charts' points.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from mltracker.service.db.schema import experiments, latest_metrics, params, runs
from mltracker.service.tracking.experiments import ACTIVE
from mltracker.service.tracking.metric_history import sampled_histories
from mltracker.service.tracking.run_records import Metric

# Points kept per (run, metric) for a chart (sampled as MLflow samples; the last is always kept).
CHART_POINTS = 400
# Runs whose history a compare page overlays.
MAX_COMPARE = 12


@dataclass(frozen=True)
class ExperimentSummary:
    experiment_id: int
    name: str
    candidates: int
    last_activity: int  # ms since the epoch
    creation_time: int


def experiment_summaries(conn: Connection, project_id: int) -> list[ExperimentSummary]:
    """Active experiments of a project with their number of active candidates and last activity."""
    active_runs = (
        select(
            runs.c.experiment_id,
            func.count().label("n"),
            func.max(func.coalesce(runs.c.end_time, runs.c.start_time)).label("last"),
        )
        .where(runs.c.project_id == project_id, runs.c.lifecycle_stage == ACTIVE)
        .group_by(runs.c.experiment_id)
        .subquery()
    )
    query = (
        select(experiments, active_runs.c.n, active_runs.c.last)
        .select_from(experiments.outerjoin(active_runs, active_runs.c.experiment_id == experiments.c.experiment_id))
        .where(experiments.c.project_id == project_id, experiments.c.lifecycle_stage == ACTIVE)
    )
    result = [
        ExperimentSummary(
            experiment_id=row.experiment_id,
            name=row.name,
            candidates=row.n or 0,
            last_activity=max(row.last or 0, row.last_update_time),
            creation_time=row.creation_time,
        )
        for row in conn.execute(query)
    ]
    result.sort(key=lambda e: (-e.last_activity, e.name))
    return result


def runs_of_project(conn: Connection, project_id: int, run_ids: list[str]) -> set[str]:
    """Which of these run ids belong to the project."""
    return set(conn.execute(
        select(runs.c.run_uuid).where(runs.c.run_uuid.in_(run_ids), runs.c.project_id == project_id)
    ).scalars())


def column_keys(conn: Connection, experiment_id: int) -> tuple[list[str], list[str]]:
    """Metric keys and param keys used by the active candidates of an experiment, sorted."""
    in_experiment = select(runs.c.run_uuid).where(
        runs.c.experiment_id == experiment_id, runs.c.lifecycle_stage == ACTIVE
    )
    metric_keys = conn.execute(
        select(latest_metrics.c.key).distinct().where(latest_metrics.c.run_uuid.in_(in_experiment))
    ).scalars()
    param_keys = conn.execute(
        select(params.c.key).distinct().where(params.c.run_uuid.in_(in_experiment))
    ).scalars()
    return sorted(metric_keys), sorted(param_keys)


def chart_points(history: Mapping[str, list[Metric]]) -> dict[str, list[tuple[int, float]]]:
    """metric key -> [(step, value)] of a sampled history, without NaN points (a chart cannot place them)."""
    return {key: [(p.step, p.value) for p in points if not math.isnan(p.value)] for key, points in history.items()}


def histories(conn: Connection, run_ids: list[str]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """run_id -> metric key -> [(step, value)], sampled to CHART_POINTS per series, in one query."""
    return {run_id: chart_points(by_key) for run_id, by_key in sampled_histories(conn, run_ids, CHART_POINTS).items()}
