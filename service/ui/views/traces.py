"""Traces pages: an experiment's traces and a candidate's (list with MLflow's trace filter grammar
and a "failing examples" switch), and one trace (span tree, inputs, outputs, timings, assessments)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template, request

from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError
from mltracker.service.tracking.experiments import get_experiment_row
from mltracker.service.traces.spans import load_spans
from mltracker.service.traces.store import get_info
from mltracker.service.ui.blueprint import bp, ui_url
from mltracker.service.ui.trace_queries import trace_page
from mltracker.service.ui.trace_view import assessment_rows, span_rows
from mltracker.service.ui.views.candidates import load_candidate

MAX_FILTER_CHARS = 2000


def _list_state() -> dict:
    return {
        "filter": (request.args.get("filter") or "").strip()[:MAX_FILTER_CHARS],
        "failing": request.args.get("assessment") == "failing",
        "page": request.args.get("page") or None,
    }


def _render_list(title_context: dict, base_endpoint: str, endpoint_values: dict, **query):
    state = _list_state()
    error = None
    with services().db.read() as conn:
        try:
            page = trace_page(conn, current_project_id(), filter_string=state["filter"] or None,
                              failing_only=state["failing"], page_token=state["page"], **query)
        except MlflowError as exc:
            page, error = None, exc.message
    base = ui_url(base_endpoint, **endpoint_values)
    filtered = {"filter": state["filter"]} if state["filter"] else {}
    params = {**filtered, "assessment": "failing"} if state["failing"] else filtered
    next_href = f"{base}?{urlencode({**params, 'page': page.next_token})}" if page and page.next_token else None
    failing_href = f"{base}?{urlencode({**filtered, 'assessment': 'failing'})}"
    all_href = f"{base}?{urlencode(filtered)}" if filtered else base
    rows = [(info, assessment_rows(info.assessments)) for info in (page.traces if page else [])]
    return render_template("ui/traces.html", state=state, error=error, rows=rows, next_href=next_href,
                           failing_href=failing_href, all_href=all_href, action=base, **title_context)


@bp.get("/experiments/<int:experiment_id>/traces")
def experiment_traces(experiment_id: int):
    with services().db.read() as conn:
        experiment = get_experiment_row(conn, current_project_id(), experiment_id)
    return _render_list({"experiment": experiment, "run": None}, "experiment_traces",
                        {"experiment_id": experiment_id}, experiment_id=experiment_id)


@bp.get("/candidates/<run_id>/traces")
def candidate_traces(run_id: str):
    with services().db.read() as conn:
        run = load_candidate(conn, run_id)
        experiment = get_experiment_row(conn, current_project_id(), run.experiment_id)
    return _render_list({"experiment": experiment, "run": run}, "candidate_traces", {"run_id": run_id},
                        run_id=run_id)


@bp.get("/traces/<trace_id>")
def trace(trace_id: str):
    with services().db.read() as conn:
        info = get_info(conn, current_project_id(), trace_id)
        experiment = get_experiment_row(conn, current_project_id(), info.experiment_id)
        spans = load_spans(conn, trace_id)
    return render_template("ui/trace.html", info=info, experiment=experiment, spans=span_rows(spans),
                           assessments=assessment_rows(info.assessments))
