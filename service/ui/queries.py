"""Read queries the pages need beyond the domain functions: one bounded query each, no N+1.

Run pages use service.search.runs.search_run_ids for ids and service.tracking.run_loading.load_runs
for the rows; this module adds the counts, column discovery and bulk metric history.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from mltracker.service.db.schema import experiments, latest_metrics, metrics, params, runs
from mltracker.service.search.filter_compiler import compile_run_filter
from mltracker.service.search.filter_parser import parse_filter
from mltracker.service.search.limits import lifecycle_stages
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.tracking.experiments import ACTIVE

# Points kept per (run, metric) for a chart; the first and last are always kept.
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


def count_runs(conn: Connection, experiment_id: int, filter_string: str | None) -> int:
    """How many active candidates of an experiment match the filter (MlflowError on a bad one)."""
    where = compile_run_filter(parse_filter(filter_string, RunVocabulary()), conn.dialect.name)
    query = select(func.count()).select_from(runs).where(
        runs.c.experiment_id == experiment_id, runs.c.lifecycle_stage.in_(lifecycle_stages("ACTIVE_ONLY")), *where
    )
    return int(conn.execute(query).scalar_one())


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


def histories(
    conn: Connection, run_ids: list[str], keys: list[str] | None = None, points: int = CHART_POINTS
) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """run_id -> metric key -> [(step, value)] ordered by step, down-sampled to `points` per series.

    One query for all runs and keys; NaN points are skipped (a chart cannot place them)."""
    if not run_ids:
        return {}
    query = (
        select(metrics.c.run_uuid, metrics.c.key, metrics.c.step, metrics.c.value, metrics.c.is_nan)
        .where(metrics.c.run_uuid.in_(run_ids))
        .order_by(metrics.c.run_uuid, metrics.c.key, metrics.c.step, metrics.c.timestamp)
    )
    if keys is not None:
        query = query.where(metrics.c.key.in_(keys))
    series: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for row in conn.execute(query):
        if not row.is_nan:
            series[row.run_uuid][row.key].append((int(row.step), float(row.value)))
    return {run: {key: downsample(pts, points) for key, pts in by_key.items()} for run, by_key in series.items()}


def downsample(pts: list[tuple[int, float]], points: int) -> list[tuple[int, float]]:
    if len(pts) <= points:
        return pts
    last = len(pts) - 1
    return [pts[i] for i in sorted({round(i * last / (points - 1)) for i in range(points)})]
