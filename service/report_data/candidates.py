"""Candidates from the database as the plain data reports/ renders."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from mltracker.reports import CandidateData
from mltracker.service.comparison.candidates import Candidate, load_candidates
from mltracker.service.comparison.scorer_metrics import is_genai_evaluation
from mltracker.service.db.schema import runs
from mltracker.service.linking.links import TAG_JOB_ID
from mltracker.service.tracking.experiments import experiment_tags_of

HISTORY_POINTS = 500


def candidate_data(
    conn: Connection,
    run_ids: list[str],
    *,
    ui_url_for=lambda run_id: None,
    job_url_for=lambda job_id: None,
    failing_examples_url_for=lambda run_id: None,
    history_points: int = HISTORY_POINTS,
) -> list[CandidateData]:
    """Final metrics, params, a downsampled history per metric, and links (for an
    `mlflow.genai.evaluate` run, to its failing examples too), for each run."""
    result = []
    for candidate in load_candidates(conn, run_ids, history_points=history_points):
        job_id = candidate.run.tags.get(TAG_JOB_ID)
        result.append(as_candidate_data(
            candidate, ui_url_for(candidate.run_id), job_url_for(job_id) if job_id else None,
            failing_examples_url_for(candidate.run_id) if is_genai_evaluation(candidate.run.tags) else None,
        ))
    return result


def as_candidate_data(candidate: Candidate, ui_url: str | None, job_url: str | None,
                      failing_examples_url: str | None = None) -> CandidateData:
    run = candidate.run
    return CandidateData(
        run_id=run.run_id,
        name=run.info.name,
        status=run.info.status,
        metrics=run.metric_values,
        params=dict(run.params),
        history={key: [(p.step, p.value) for p in points] for key, points in candidate.history.items()},
        metric_order=candidate.metric_order,
        ui_url=ui_url,
        job_url=job_url,
        duration_s=run.info.duration_s,
        failing_examples_url=failing_examples_url,
    )


def experiment_of_runs(conn: Connection, run_ids: list[str]) -> dict[int, list[str]]:
    """run ids grouped by experiment id, keeping their order."""
    grouped: dict[int, list[str]] = defaultdict(list)
    rows = dict(conn.execute(select(runs.c.run_uuid, runs.c.experiment_id).where(runs.c.run_uuid.in_(run_ids))).all())
    for run_id in run_ids:
        if run_id in rows:
            grouped[rows[run_id]].append(run_id)
    return grouped


def experiment_tags(conn: Connection, experiment_id: int) -> dict[str, str]:
    return experiment_tags_of(conn, [experiment_id])[experiment_id]
