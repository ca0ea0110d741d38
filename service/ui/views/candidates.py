"""A candidate's page: details, params, metrics with history charts, tags, CI, datasets, artifacts,
logged models, model versions; and the Promote form."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request

from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError
from mltracker.service.registry.model_sources import ModelSource, model_sources
from mltracker.service.registry.promote import no_model_reason
from mltracker.service.tracking.experiments import get_experiment_row
from mltracker.service.tracking.run_loading import load_runs
from mltracker.service.tracking.runs import get_run_row
from mltracker.service.ui import charts, registry_view
from mltracker.service.ui.access import current_viewer
from mltracker.service.ui.blueprint import bp, error_page, ui_url
from mltracker.service.ui.candidate_view import CandidateRow
from mltracker.service.ui.queries import histories
from mltracker.service.ui.views.artifacts import list_artifacts


def load_candidate(conn, run_id: str) -> CandidateRow:
    get_run_row(conn, current_project_id(), run_id)  # 404 unless it is this project's
    return CandidateRow.of(load_runs(conn, [run_id])[0])


def promote_options(conn, run_id: str) -> tuple[list[ModelSource], str | None]:
    """What the Promote form may register, or why nothing can be."""
    run = get_run_row(conn, current_project_id(), run_id)
    try:
        options = model_sources(conn, services().artifacts, current_project_id(), run)
    except MlflowError as exc:
        return [], f"The candidate's models could not be listed: {exc.message}"
    return options, None if options else no_model_reason(run)


@bp.get("/candidates/<run_id>")
def candidate(run_id: str):
    with services().db.read() as conn:
        row = load_candidate(conn, run_id)
        experiment = get_experiment_row(conn, current_project_id(), row.experiment_id)
        history = histories(conn, [run_id]).get(run_id, {})
        versions = registry_view.versions_of_runs(conn, current_project_id(), [run_id])
        models = registry_view.model_names(conn, current_project_id())
        logged = registry_view.logged_models_of_run(conn, current_project_id(), run_id)
        sources, refusal = promote_options(conn, run_id) if g.access.can_promote else ([], None)
    metric_charts = {
        key: charts.line_chart(key, [charts.Series(row.name, points, charts.color(0))])
        for key, points in sorted(history.items()) if len(points) > 1
    }
    entries, artifact_error = list_artifacts(row, "")
    return render_template(
        "ui/candidate.html", run=row, experiment=experiment, metric_charts=metric_charts,
        entries=entries, artifact_error=artifact_error, versions=versions.get(run_id, []),
        model_names=models, logged_models=logged, model_sources=sources, promote_refusal=refusal,
    )


@bp.post("/candidates/<run_id>/promote")
def promote(run_id: str):
    if not g.access.can_promote:
        return error_page(403, "Not allowed",
                          f"Promoting a candidate needs the {g.access.promote_role} role in this project.")
    model_name = request.form.get("model", "").strip()
    alias = request.form.get("alias", "").strip() or None
    source = request.form.get("source") or None
    if not model_name:
        flash("Enter the name of the model to promote this candidate to.", "error")
        return redirect(ui_url("candidate", run_id=run_id) + "#promote")
    with services().db.read() as conn:
        load_candidate(conn, run_id)
    try:
        version = registry_view.promote(current_project_id(), run_id, model_name, alias,
                                        current_viewer().username or "unknown", source)
    except MlflowError as exc:
        flash(f"Could not promote: {exc.message}", "error")
        return redirect(ui_url("candidate", run_id=run_id) + "#promote")
    flash(f"Promoted to {model_name} version {version}.", "success")
    return redirect(ui_url("model_version", name=model_name, version=version))
