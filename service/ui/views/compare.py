"""Compare ticked candidates: params side by side (differences highlighted), metrics with deltas
(the reports/ comparison model rendered as HTML, as on merge requests), overlaid history charts."""
from __future__ import annotations

import dataclasses

from flask import render_template, request
from markupsafe import Markup

from mltracker.reports import BaselineData, CandidateData, ExperimentData, Report, build_experiment, render_html
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.comparison.scorer_metrics import experiment_scorer_metrics
from mltracker.service.context import current_project_id, services
from mltracker.service.tracking.experiments import experiment_tags_of, get_experiment_rows
from mltracker.service.tracking.run_loading import load_runs
from mltracker.service.ui import charts
from mltracker.service.ui.blueprint import bp, error_page, ui_url
from mltracker.service.ui.candidate_view import CandidateRow
from mltracker.service.ui.queries import MAX_COMPARE, histories, runs_of_project


@bp.get("/compare")
def compare():
    run_ids = list(dict.fromkeys(r for r in request.args.getlist("run") if r))[:MAX_COMPARE]
    if len(run_ids) < 2:
        return error_page(400, "Pick candidates to compare",
                          "Tick two or more candidates in an experiment's table, then press Compare.")
    with services().db.read() as conn:
        owned = runs_of_project(conn, current_project_id(), run_ids)
        run_ids = [r for r in run_ids if r in owned]
        rows = [CandidateRow.from_json(r) for r in load_runs(conn, run_ids)]
        history = histories(conn, run_ids)
        tags = experiment_tags_of(conn, list({r.experiment_id for r in rows}))
        names = {e: row.name for e, row in get_experiment_rows(conn, list({r.experiment_id for r in rows})).items()}
        scorer_aggregates = experiment_scorer_metrics(conn, rows[0].experiment_id) if rows else frozenset()
    if len(rows) < 2:
        return error_page(404, "Candidates not found", "Fewer than two of these candidates exist in this project.")

    candidates = [
        CandidateData(
            run_id=r.run_id, name=r.name, status=r.status, metrics=r.metrics, params=r.params,
            history=history.get(r.run_id, {}), ui_url=ui_url("candidate", run_id=r.run_id),
            job_url=r.ci["job"].url if "job" in r.ci else None, duration_s=r.duration_s,
        )
        for r in rows
    ]
    first_tags = {t["key"]: t["value"] for t in tags.get(rows[0].experiment_id, [])}
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
