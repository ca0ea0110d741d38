"""GET <tracking-uri>/api/mltracker/gate — the CI quality gate (read access; a CI job token works).

Query parameters:
  pipeline_id     the pipeline whose candidates are judged (required; CI_PIPELINE_ID)
  metric          the metric key (required)
  direction       minimize (default) | maximize
  max_regression  allowed relative regression: 0.05 or 5% (default 0)
  target_ref      the baseline's branch, e.g. CI_MERGE_REQUEST_TARGET_BRANCH_NAME or CI_DEFAULT_BRANCH (required)
  experiment      experiment name or id (default: the experiment of the pipeline's newest candidate)
  format          json (default) | text

Always HTTP 200 once authorised and well-formed: the verdict is in the body (`passed`, `status`,
and a `summary` whose first line starts with PASS or FAIL; format=text returns only the summary).
The baseline is the best candidate of the newest pipeline on target_ref with candidates in the same
experiment (this pipeline excluded); "best" is the min or max of the metric's latest value.
"""
from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select

from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.context import current_project_id, services
from mltracker.service.db.schema import ci_links, experiments, latest_metrics, runs
from mltracker.service.errors import invalid
from mltracker.service.gate.evaluate import Candidate, evaluate, parse_direction, parse_max_regression, summary
from mltracker.service.linking.links import latest_pipeline_runs_on_ref, runs_of_pipeline

bp = Blueprint("gate", __name__)


def _candidates(conn, run_ids: list[str], metric: str) -> list[Candidate]:
    if not run_ids:
        return []
    values = {
        row.run_uuid: (None if row.is_nan else float(row.value))
        for row in conn.execute(
            select(latest_metrics.c.run_uuid, latest_metrics.c.value, latest_metrics.c.is_nan).where(
                latest_metrics.c.run_uuid.in_(run_ids), latest_metrics.c.key == metric
            )
        )
    }
    rows = {
        row.run_uuid: row
        for row in conn.execute(
            select(runs.c.run_uuid, runs.c.name, ci_links.c.pipeline_id, ci_links.c.job_id)
            .join(ci_links, ci_links.c.run_uuid == runs.c.run_uuid)
            .where(runs.c.run_uuid.in_(run_ids))
        )
    }
    return [
        Candidate(run_id=r, run_name=rows[r].name, value=values.get(r),
                  pipeline_id=rows[r].pipeline_id, job_id=rows[r].job_id)
        for r in run_ids if r in rows
    ]


def _experiment(conn, project_id: int, raw: str | None, pipeline_runs: list[str], metric: str):
    """(experiment_id, name) or (None, raw) when not found."""
    if raw:
        row = conn.execute(
            select(experiments.c.experiment_id, experiments.c.name).where(
                experiments.c.project_id == project_id, experiments.c.name == raw
            )
        ).first()
        if row is None and raw.isdigit():
            row = conn.execute(
                select(experiments.c.experiment_id, experiments.c.name).where(
                    experiments.c.project_id == project_id, experiments.c.experiment_id == int(raw)
                )
            ).first()
        return (row.experiment_id, row.name) if row is not None else (None, raw)
    if not pipeline_runs:
        return None, None
    with_metric = set(conn.execute(
        select(latest_metrics.c.run_uuid).where(
            latest_metrics.c.run_uuid.in_(pipeline_runs), latest_metrics.c.key == metric
        )
    ).scalars())
    newest = [r for r in pipeline_runs if r in with_metric] or pipeline_runs
    row = conn.execute(
        select(experiments.c.experiment_id, experiments.c.name)
        .join(runs, runs.c.experiment_id == experiments.c.experiment_id)
        .where(runs.c.run_uuid == newest[-1])
    ).first()
    return row.experiment_id, row.name


@bp.get("/gate")
def gate():
    msg = message()
    project_id = current_project_id()
    pipeline_id = msg.integer("pipeline_id", required=True)
    metric = msg.string("metric", required=True)
    target_ref = msg.string("target_ref", required=True)
    direction = parse_direction(msg.string("direction"))
    max_regression = parse_max_regression(msg.string("max_regression"))
    raw_experiment = msg.string("experiment") or msg.string("experiment_name")
    fmt = (msg.string("format") or "").lower()
    if fmt not in ("", "json", "text"):
        raise invalid(f"format must be 'json' or 'text', got '{fmt}'.")

    with services().db.read() as conn:
        all_runs = runs_of_pipeline(conn, project_id, pipeline_id)
        experiment_id, experiment_name = _experiment(conn, project_id, raw_experiment, all_runs, metric)
        if experiment_id is None:
            pipeline_runs, baseline_runs = [], []
        else:
            pipeline_runs = runs_of_pipeline(conn, project_id, pipeline_id, experiment_id)
            baseline_runs = latest_pipeline_runs_on_ref(
                conn, project_id, experiment_id, target_ref, exclude_pipeline_id=pipeline_id
            )
        result = evaluate(
            metric=metric, direction=direction, max_regression=max_regression, experiment=experiment_name,
            pipeline_id=pipeline_id, baseline_ref=target_ref,
            candidates=_candidates(conn, pipeline_runs, metric),
            baseline_candidates=_candidates(conn, baseline_runs, metric),
        )
    if experiment_id is None and raw_experiment:
        result.reason = f"experiment '{raw_experiment}' not found in project {project_id}"
    wants_text = fmt == "text" or (not fmt and request.accept_mimetypes.best == "text/plain")
    if wants_text:
        return Response(summary(result), mimetype="text/plain")
    return json_response(result.to_json())
