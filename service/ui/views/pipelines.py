"""One CI pipeline's page: its candidates and their comparison with a baseline branch.

The bot links it from commit statuses and merge request reports: a short URL however many
candidates the pipeline produced (GitLab caps a status's target_url at 255 characters).
"""
from __future__ import annotations

from flask import render_template, request
from markupsafe import Markup

from mltracker.reports import render_html
from mltracker.service.context import current_project_id, services
from mltracker.service.linking.links import links_of_runs, runs_of_pipeline
from mltracker.service.report_data.links import Links
from mltracker.service.report_data.pipeline_report import comparison_report
from mltracker.service.tracking.run_loading import load_runs
from mltracker.service.ui.blueprint import bp, error_page
from mltracker.service.ui.candidate_view import CandidateRow

MAX_BRANCH_CHARS = 255


@bp.get("/pipelines/<int:pipeline_id>")
def pipeline(pipeline_id: int):
    project_id = current_project_id()
    against = (request.args.get("against") or "").strip()[:MAX_BRANCH_CHARS] or None
    with services().db.read() as conn:
        run_ids = runs_of_pipeline(conn, project_id, pipeline_id)
        if not run_ids:
            return error_page(404, "No candidates from this pipeline",
                              f"Pipeline {pipeline_id} logged no candidates in this project (or they were deleted).")
        rows = [CandidateRow.of(r) for r in load_runs(conn, run_ids)]
        ci = links_of_runs(conn, run_ids)
        report = comparison_report(conn, project_id, run_ids, target_branch=against,
                                   links=Links("", project_id), exclude_pipeline_id=pipeline_id)
    first = ci.get(run_ids[0])
    return render_template(
        "ui/pipeline.html", pipeline_id=pipeline_id, rows=rows, against=against,
        ref=first.ref if first else None, sha=first.commit_sha if first else None,
        merge_request_iid=first.merge_request_iid if first else None,
        report_html=Markup(render_html(report)),
    )
