"""Candidates from the database as the plain data reports/ renders."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, func, select

from mltracker.reports import CandidateData
from mltracker.service.comparison.scorer_metrics import is_genai_evaluation
from mltracker.service.db.schema import metrics, runs
from mltracker.service.tracking.experiments import experiment_tags_of
from mltracker.service.tracking.metric_history import sampled_history
from mltracker.service.tracking.run_loading import load_runs

HISTORY_POINTS = 500
JOB_ID_TAG = "gitlab.CI_JOB_ID"


def candidate_data(
    conn: Connection,
    run_ids: list[str],
    *,
    ui_url_for=lambda run_id: None,
    job_url_for=lambda job_id: None,
    failing_examples_url_for=lambda run_id: None,
) -> list[CandidateData]:
    """Final metrics, params, a downsampled history per metric, and links (for an
    `mlflow.genai.evaluate` run, to its failing examples too), for each run."""
    loaded = load_runs(conn, run_ids)
    order = _metric_order(conn, run_ids)
    result = []
    for run in loaded:
        info, data = run["info"], run["data"]
        run_id = info["run_id"]
        final = {m["key"]: _float(m["value"]) for m in data["metrics"]}
        tags = {t["key"]: t["value"] for t in data["tags"]}
        history = {
            key: [(p["step"], _float(p["value"])) for p in sampled_history(conn, run_id, key, HISTORY_POINTS, None, None)]
            for key in final
        }
        end = info.get("end_time")
        result.append(CandidateData(
            run_id=run_id,
            name=info["run_name"],
            status=info["status"],
            metrics=final,
            params={p["key"]: p["value"] for p in data["params"]},
            history=history,
            metric_order=order.get(run_id, ()),
            ui_url=ui_url_for(run_id),
            job_url=job_url_for(tags[JOB_ID_TAG]) if tags.get(JOB_ID_TAG) else None,
            duration_s=(end - info["start_time"]) / 1000 if end else None,
            failing_examples_url=failing_examples_url_for(run_id) if is_genai_evaluation(tags) else None,
        ))
    return result


def experiment_of_runs(conn: Connection, run_ids: list[str]) -> dict[int, list[str]]:
    """run ids grouped by experiment id, keeping their order."""
    grouped: dict[int, list[str]] = defaultdict(list)
    rows = dict(conn.execute(select(runs.c.run_uuid, runs.c.experiment_id).where(runs.c.run_uuid.in_(run_ids))).all())
    for run_id in run_ids:
        if run_id in rows:
            grouped[rows[run_id]].append(run_id)
    return grouped


def experiment_tags(conn: Connection, experiment_id: int) -> dict[str, str]:
    return {t["key"]: t["value"] for t in experiment_tags_of(conn, [experiment_id])[experiment_id]}


def _metric_order(conn: Connection, run_ids: list[str]) -> dict[str, tuple[str, ...]]:
    first_logged = (
        select(metrics.c.run_uuid, metrics.c.key, func.min(metrics.c.timestamp).label("first"))
        .where(metrics.c.run_uuid.in_(run_ids))
        .group_by(metrics.c.run_uuid, metrics.c.key)
        .order_by(metrics.c.run_uuid, "first", metrics.c.key)
    )
    order: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(first_logged):
        order[row.run_uuid].append(row.key)
    return {k: tuple(v) for k, v in order.items()}


def _float(value) -> float:
    return float(value)  # "NaN" / "Infinity" strings from the JSON shape parse too
