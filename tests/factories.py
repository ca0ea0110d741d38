"""Small factories for domain tests that run inside the `conn` fixture's transaction (rolled back
after each test, so every test may use the same project and names). They write through the domain
functions, as the API does."""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from mltracker.service.linking.links import JobLink, record_link
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store

PROJECT = 1
_job_ids = itertools.count(1)
_committed_projects = itertools.count(100_000)

# A metric's value, or its history as (step, value) points.
MetricValues = float | Sequence[tuple[int, float]]


def committed_project() -> int:
    """A project id no other test of the session uses, for the few tests whose writes are committed
    (their own transactions, threads) and so cannot share PROJECT inside `conn`'s rollback."""
    return next(_committed_projects)


def experiment(conn, name: str = "experiment", *, project: int = PROJECT, tags: Mapping[str, str] = ()) -> int:
    experiment_id = exps.create_experiment(conn, project, name)
    for key, value in dict(tags).items():
        exps.set_experiment_tag(conn, project, experiment_id, key, value)
    return experiment_id


def run(
    conn, experiment_id: int, name: str, *, project: int = PROJECT,
    metrics: Mapping[str, MetricValues] = (), params: Mapping[str, str] = (), tags: Mapping[str, str] = (),
    status: str | None = "FINISHED",
    pipeline: int | None = None, ref: str = "main", merge_request: int | None = None,
) -> str:
    """A run with metrics (a value, logged at step 0, or a history), params, tags, a final status
    and, with `pipeline`, a CI link to a job of that pipeline."""
    run_tags = [{"key": k, "value": v} for k, v in dict(tags).items()]
    run_id = run_store.create_run(conn, project, experiment_id, "ci", None, run_tags, name)
    points = []
    for key, values in dict(metrics).items():
        series = [(0, values)] if isinstance(values, (int, float)) else values
        points += [run_store.MetricPoint(key, value, 1000 + step, step) for step, value in series]
    run_store.log_batch(conn, project, run_id, points, [{"key": k, "value": v} for k, v in dict(params).items()], [])
    if status is not None:
        run_store.update_run(conn, project, run_id, status, 2000, None)
    if pipeline is not None:
        record_link(conn, project, run_id, JobLink(next(_job_ids), pipeline, "f" * 40, ref, merge_request, "dev"))
    return run_id
