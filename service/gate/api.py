"""GET <tracking-uri>/api/mltracker/gate — the CI quality gate (read access; a CI job token works).

Query parameters:
  pipeline_id     the pipeline whose candidates are judged (required; CI_PIPELINE_ID)
  metric          the metric key (required)
  direction       auto (default: the experiment tag mltracker.direction.<metric>, else the metric's
                  name, as in the merge request report) | minimize | maximize
  no_candidates   pass (default; the summary says so) | fail: what a pipeline without candidates means
  max_regression  allowed relative regression: 0.05 or 5% (default 0)
  target_ref      the baseline's branch, e.g. CI_MERGE_REQUEST_TARGET_BRANCH_NAME or CI_DEFAULT_BRANCH (required)
  experiment      experiment name or id (default: the experiment of the pipeline's newest candidate)
  format          json (default) | text

Always HTTP 200 once authorised and well-formed: the verdict is in the body (`passed`, `status`,
and a `summary` whose first line starts with PASS or FAIL; format=text returns only the summary).
Baseline, direction and "best candidate" are decided by service/comparison, as for the merge
request report: the best candidate of the newest pipeline on target_ref in the same experiment (this
pipeline excluded), else the experiment's `champion` model version.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.gate.evaluate import parse_direction_setting, parse_max_regression, parse_no_candidates, summary
from mltracker.service.gate.judge import GateQuestion, judge_pipeline

bp = Blueprint("gate", __name__)


@bp.get("/gate")
def gate():
    msg = message()
    fmt = (msg.string("format") or "").lower()
    if fmt not in ("", "json", "text"):
        raise invalid(f"format must be 'json' or 'text', got '{fmt}'.")
    question = GateQuestion(
        pipeline_id=msg.integer("pipeline_id", required=True),
        metric=msg.string("metric", required=True),
        target_ref=msg.string("target_ref", required=True),
        direction=parse_direction_setting(msg.string("direction")),
        max_regression=parse_max_regression(msg.string("max_regression")),
        experiment=msg.string("experiment") or msg.string("experiment_name"),
        no_candidates=parse_no_candidates(msg.string("no_candidates")),
    )
    with services().db.read() as conn:
        result = judge_pipeline(conn, current_project_id(), question)
    wants_text = fmt == "text" or (not fmt and request.accept_mimetypes.best == "text/plain")
    if wants_text:
        return Response(summary(result), mimetype="text/plain")
    return json_response(result.to_json())
