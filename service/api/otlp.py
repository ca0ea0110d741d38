"""POST /v1/traces: OTLP/HTTP span export, as the MLflow 3 client sends its spans (protobuf, with the
experiment in the `x-mlflow-experiment-id` header; `x-mlflow-run-id` optionally names a run the
finished traces join). JSON and gzip/deflate bodies are accepted too, as the OTLP specification
allows any exporter to send them."""
from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.runs import run_in_project
from mltracker.service.traces import store
from mltracker.service.traces.otlp import JSON, decode_export_request
from mltracker.service.traces.spans import log_spans

bp = Blueprint("otlp", __name__)
EXPERIMENT_HEADER = "x-mlflow-experiment-id"
RUN_HEADER = "x-mlflow-run-id"
DEFAULT_DECOMPRESSED_LIMIT = 64 * 1024 * 1024


@bp.post("/v1/traces")
def export_traces():
    raw_experiment = request.headers.get(EXPERIMENT_HEADER)
    if not raw_experiment:
        raise invalid(f"Missing required header '{EXPERIMENT_HEADER}'.")
    body = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and len(body) >= limit:
        raise RequestEntityTooLarge()
    records = decode_export_request(body, request.content_type, request.headers.get("Content-Encoding"),
                                    limit or DEFAULT_DECOMPRESSED_LIMIT)
    project_id = current_project_id()
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, project_id, raw_experiment, create=True)
        log_spans(conn, project_id, experiment_id, records)
        run_id = request.headers.get(RUN_HEADER)
        completed = [r.trace_id for r in records if r.parent_span_id is None]
        if run_id and completed and run_in_project(conn, project_id, run_id):
            # As mlflow server: the traces whose root span arrived here join the run; an unknown
            # run is passed over rather than losing the spans.
            store.link_to_run(conn, project_id, completed[:store.MAX_TRACE_LINKS_PER_REQUEST], run_id)
    # An empty ExportTraceServiceResponse, in the encoding of the request.
    if (request.content_type or "").split(";")[0].strip().lower() == JSON:
        return Response(b"{}", mimetype=JSON)
    return Response(b"", mimetype="application/x-protobuf")
