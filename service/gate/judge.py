"""The gate's question answered from the database: this pipeline's candidates, the baseline that
service/comparison chooses, and the verdict."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.comparison.baseline import select_baseline
from mltracker.service.comparison.best import comparable
from mltracker.service.comparison.candidates import load_candidates
from mltracker.service.comparison.direction import AUTO
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.comparison.scorer_metrics import experiment_scorer_metrics
from mltracker.service.db.schema import experiments, latest_metrics, runs
from mltracker.service.gate.evaluate import Candidate, GateResult, evaluate
from mltracker.service.linking.links import runs_of_pipeline
from mltracker.service.report_data.candidates import experiment_tags


@dataclass(frozen=True)
class GateQuestion:
    pipeline_id: int
    metric: str
    target_ref: str
    direction: str = AUTO  # auto | a direction (minimize, maximize, min, max)
    max_regression: float = 0.0
    experiment: str | None = None  # name or id; default: the experiment of the pipeline's newest candidate
    no_candidates: str = "pass"


def judge_pipeline(conn: Connection, project_id: int, question: GateQuestion) -> GateResult:
    q = question
    all_runs = runs_of_pipeline(conn, project_id, q.pipeline_id)
    experiment_id, experiment_name = _experiment(conn, project_id, q.experiment, all_runs, q.metric)
    configured = {} if q.direction == AUTO else {q.metric: q.direction}
    rules = ComparisonRules(experiment_tags(conn, experiment_id) if experiment_id is not None else {}, configured,
                            scorer_metrics=experiment_scorer_metrics(conn, experiment_id))
    pipeline_runs, baseline = [], None
    if experiment_id is not None:
        pipeline_runs = runs_of_pipeline(conn, project_id, q.pipeline_id, experiment_id)
        baseline = select_baseline(conn, project_id, experiment_id, q.target_ref, rules,
                                   exclude_pipeline_id=q.pipeline_id, metric=q.metric)
    result = evaluate(
        metric=q.metric, direction=rules.direction(q.metric), max_regression=q.max_regression,
        experiment=experiment_name, pipeline_id=q.pipeline_id, baseline_ref=q.target_ref,
        candidates=_candidates(conn, pipeline_runs, q.metric),
        baseline_candidates=_candidates(conn, list(baseline.run_ids) if baseline else [], q.metric),
        baseline_run_id=baseline.run_id if baseline else None,
        baseline_label=baseline.label if baseline else None, no_candidates=q.no_candidates,
    )
    if experiment_id is None and q.experiment:
        result.reason = f"experiment '{q.experiment}' not found in project {project_id}"
    return result


def _candidates(conn: Connection, run_ids: list[str], metric: str) -> list[Candidate]:
    return [
        Candidate(run_id=c.run_id, run_name=c.name, value=comparable(c.metrics.get(metric)), status=c.status,
                  pipeline_id=c.ci.pipeline_id if c.ci else None, job_id=c.ci.job_id if c.ci else None)
        for c in load_candidates(conn, run_ids)
    ]


def _experiment(conn: Connection, project_id: int, raw: str | None, pipeline_runs: list[str], metric: str):
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


