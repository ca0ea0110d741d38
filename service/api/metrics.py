"""Metric history endpoints. Pages and streams are written as JSON text straight from the
driver's tuples (no objects for 25,000-point pages)."""
from __future__ import annotations

import json
import math
from typing import Iterator

from flask import Blueprint, Response, request

from mltracker.service.api.json_response import json_response
from mltracker.service.api.mlflow_json import metric_json
from mltracker.service.api.request import DOCS_HINT, message
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking.metric_history import (
    MAX_HISTORY_BULK_RESULTS,
    MAX_RESULTS_PER_RUN,
    bulk_history,
    decode_after,
    history_chunks,
    history_page,
    sampled_history,
)
from mltracker.service.tracking.validation import missing_value

bp = Blueprint("metrics", __name__)

MAX_RUNS_BULK = 100


@bp.get("/metrics/get-history")
def get_metric_history():
    msg = message()
    run_id = msg.string("run_id", required=True, aliases=("run_uuid",))
    key = msg.string("metric_key", required=True)
    max_results = msg.integer("max_results")
    if max_results is not None and max_results < 1:
        raise invalid(f"Invalid value {max_results} for parameter 'max_results' supplied.")
    page_token = msg.string("page_token")
    decode_after(page_token)  # a bad token is refused even for an unknown run, as MLflow does
    db = services().db
    with db.read() as conn:
        if not run_store.run_in_project(conn, current_project_id(), run_id):
            return json_response({})  # as mlflow server answers for an unknown run
        if max_results is not None:
            rows, next_token = history_page(conn, run_id, key, max_results, page_token)
            return Response(_page_body(key, rows, next_token), mimetype="application/json")
    return Response(_stream_body(db, run_id, key), mimetype="application/json")


def _point_json(key_json: str, timestamp: int, step: int, value: float, is_nan: bool) -> str:
    if is_nan:
        text = '"NaN"'
    elif math.isfinite(value):
        text = repr(float(value))
    else:
        text = '"Infinity"' if value > 0 else '"-Infinity"'
    return f'{{"key":{key_json},"value":{text},"timestamp":{timestamp},"step":{step}}}'


def _page_body(key: str, rows: list[tuple], next_token: str | None) -> str:
    key_json = json.dumps(key)
    body = '{"metrics":[' + ",".join(_point_json(key_json, *r) for r in rows) + "]"
    if next_token:
        body += f',"next_page_token":"{next_token}"'
    return body + "}"


def _stream_body(db, run_id: str, key: str) -> Iterator[str]:
    key_json = json.dumps(key)
    yield '{"metrics":['
    first = True
    for partition in history_chunks(db, run_id, key):
        chunk = ",".join(_point_json(key_json, *r) for r in partition)
        yield chunk if first else "," + chunk
        first = False
    yield "]}"


@bp.get("/metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval():
    return json_response(bulk_interval_payload(message()))


def bulk_interval_payload(msg) -> dict:
    run_ids = msg.strings("run_ids")
    if not run_ids:
        raise invalid(missing_value("run_ids") + DOCS_HINT)
    if len(run_ids) > MAX_RUNS_BULK:
        raise invalid(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids." + DOCS_HINT
        )
    key = msg.string("metric_key", required=True)
    start_step, end_step = msg.integer("start_step"), msg.integer("end_step")
    max_results = msg.integer("max_results", default=MAX_RESULTS_PER_RUN)
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise invalid(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}." + DOCS_HINT)
    if (start_step is None) != (end_step is None):
        raise invalid("If either start step or end step are specified, both must be specified.")
    if start_step is not None and start_step > end_step:
        raise invalid(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    points = []
    with services().db.read() as conn:
        for run_id in run_ids:
            run_store.get_run_row(conn, current_project_id(), run_id)
        for run_id in run_ids:
            points.extend(dict(metric_json(m), run_id=run_id)
                          for m in sampled_history(conn, run_id, key, max_results, start_step, end_step))
    return {"metrics": points}


@bp.get("/metrics/get-history-bulk")
def get_metric_history_bulk():
    """The whole history of one metric for up to 100 runs (MLflow's UI compares runs with it)."""
    run_ids = request.args.getlist("run_id")
    if not run_ids:
        raise invalid("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_ids) > MAX_RUNS_BULK:
        raise invalid(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    key = request.args.get("metric_key")
    if key is None:
        raise invalid("GetMetricHistoryBulk request must specify a metric_key.")
    max_results = message().integer("max_results", default=MAX_HISTORY_BULK_RESULTS)
    max_results = min(max_results, MAX_HISTORY_BULK_RESULTS)
    with services().db.read() as conn:
        owned = run_store.runs_in_project(conn, current_project_id(), run_ids)
        points = bulk_history(conn, sorted(owned), key, max_results)
    return json_response({"metrics": [dict(metric_json(m), run_id=run_id) for run_id, m in points]})
