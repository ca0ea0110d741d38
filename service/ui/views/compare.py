"""Compare ticked candidates: params side by side (differences highlighted), metrics with deltas
(the reports/ comparison model rendered as HTML, as on merge requests), overlaid history charts."""
from __future__ import annotations

import dataclasses

from flask import render_template, request
from markupsafe import Markup

from mltracker.reports import BaselineData, ExperimentData, Report, build_experiment, render_html
from mltracker.service.comparison.candidates import load_candidates
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.comparison.scorer_metrics import experiment_scorer_metrics
from mltracker.service.context import current_project_id, services
from mltracker.service.report_data.candidates import as_candidate_data
from mltracker.service.tracking.experiments import experiment_tags_of, get_experiment_rows
from mltracker.service.ui import charts
from mltracker.service.ui.blueprint import bp, error_page, ui_url
from mltracker.service.ui.candidate_view import CandidateRow
from mltracker.service.ui.queries import CHART_POINTS, MAX_COMPARE, chart_points, runs_of_project


@bp.get("/compare")
def compare():
    run_ids = list(dict.fromkeys(r for r in request.args.getlist("run") if r))[:MAX_COMPARE]
    if len(run_ids) < 2:
        return error_page(400, "Pick candidates to compare",
                          "Tick two or more candidates in an experiment's table, then press Compare.")
    with services().db.read() as conn:
        owned = runs_of_project(conn, current_project_id(), run_ids)
        loaded = load_candidates(conn, [r for r in run_ids if r in owned], history_points=CHART_POINTS)
        experiment_ids = list({c.run.info.experiment_id for c in loaded})
        tags = experiment_tags_of(conn, experiment_ids)
        names = {e: row.name for e, row in get_experiment_rows(conn, experiment_ids).items()}
        scorer_aggregates = experiment_scorer_metrics(conn, loaded[0].run.info.experiment_id) if loaded else frozenset()
    if len(loaded) < 2:
        return error_page(404, "Candidates not found", "Fewer than two of these candidates exist in this project.")

    rows = [CandidateRow.of(c.run) for c in loaded]
    history = {c.run_id: chart_points(c.history) for c in loaded}
    candidates = [
        dataclasses.replace(
            as_candidate_data(c, ui_url("candidate", run_id=r.run_id), r.ci["job"].url if "job" in r.ci else None),
            name=r.name,
        )
        for c, r in zip(loaded, rows)
    ]
    first_tags = tags.get(rows[0].experiment_id, {})
    experiment = ExperimentData(
        name=names.get(rows[0].experiment_id, ""), candidates=candidates[1:],
        baseline=BaselineData(label=candidates[0].label, candidate=candidates[0]),
        rules=ComparisonRules(first_tags, scorer_metrics=scorer_aggregates),
    )
    built = dataclasses.replace(build_experiment(experiment, key="compare"), compare=True)
    report_html = Markup(render_html(Report((built,), title="Metrics", compare=True)))

    param_keys = sorted({k for r in rows for k in r.params})
    param_rows = [(k, [r.params.get(k) for r in rows]) for k in param_keys]
    param_rows = [(k, values, len(set(values)) > 1) for k, values in param_rows]
    only_diff = request.args.get("diff") == "1"
    metric_keys = sorted({k for per_run in history.values() for k, pts in per_run.items()})
    metric_charts = {
        key: charts.line_chart(key, [
            charts.Series(r.name, history.get(r.run_id, {}).get(key, []), charts.color(i)) for i, r in enumerate(rows)
        ])
        for key in metric_keys
    }
    return render_template(
        "ui/compare.html", rows=rows, colors=[charts.color(i) for i in range(len(rows))],
        param_rows=[p for p in param_rows if p[2] or not only_diff], only_diff=only_diff,
        differing=sum(1 for p in param_rows if p[2]), report_html=report_html, metric_charts=metric_charts,
        experiment_id=rows[0].experiment_id, experiment_name=names.get(rows[0].experiment_id),
    )
