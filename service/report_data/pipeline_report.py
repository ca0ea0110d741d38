"""The comparison report of a set of candidates (one pipeline's) against their baselines."""
from __future__ import annotations

from sqlalchemy import Connection

from mltracker.reports import BaselineData, ExperimentData, Report, build_report
from mltracker.service.comparison.baseline import select_baseline
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.comparison.scorer_metrics import experiment_scorer_metrics
from mltracker.service.report_data.candidates import candidate_data, experiment_of_runs, experiment_tags
from mltracker.service.report_data.links import Links
from mltracker.service.tracking.experiments import get_experiment_rows


def comparison_report(
    conn: Connection,
    project_id: int,
    run_ids: list[str],
    *,
    target_branch: str | None,
    links: Links,
    exclude_pipeline_id: int | None = None,
    directions: dict[str, str] | None = None,
) -> Report:
    grouped = experiment_of_runs(conn, run_ids)
    names = get_experiment_rows(conn, list(grouped))
    experiments = []
    for experiment_id, ids in grouped.items():
        rules = ComparisonRules(experiment_tags(conn, experiment_id), directions or {},
                                scorer_metrics=experiment_scorer_metrics(conn, experiment_id))
        chosen = None
        if target_branch:
            chosen = select_baseline(conn, project_id, experiment_id, target_branch, rules, exclude_pipeline_id)
        loaded = {c.run_id: c for c in candidate_data(
            conn, list(dict.fromkeys(ids + ([chosen.run_id] if chosen else []))),
            ui_url_for=links.candidate, job_url_for=links.job, failing_examples_url_for=links.failing_examples,
        )}
        baseline = None
        if chosen is not None and chosen.run_id in loaded:
            baseline = BaselineData(
                label=chosen.label, candidate=loaded[chosen.run_id],
                pipeline_url=links.pipeline(chosen.pipeline_id) if chosen.pipeline_id else None,
            )
        experiments.append(ExperimentData(
            name=names[experiment_id].name,
            candidates=[loaded[r] for r in ids if r in loaded],
            baseline=baseline,
            rules=rules,
            ui_url=links.experiment(experiment_id),
        ))
    return build_report(experiments)
