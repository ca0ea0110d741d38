"""MLflow's trace endpoints under /api/2.0/mlflow and /api/3.0/mlflow: start (3.x StartTraceV3 and
the 2.x StartTrace/EndTrace), get (info, trace with spans, batches), search, delete, tags, link to a
run, assessments; and /get-trace-artifact (a trace's spans as the traces.json MLflow's UI reads)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from mltracker.service.api.json_response import encode, json_response
from mltracker.service.api.trace_json import (
    assessment_json,
    span_artifact_json,
    span_json,
    trace_info_json,
    trace_info_v2_json,
)
from mltracker.service.api.request import RequestMessage, message
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError, invalid
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.validation import missing_value
from mltracker.service.traces import assessments, search, store
from mltracker.service.traces.model import STATE_OF_V2_STATUS, TraceInfo
from mltracker.service.traces.spans import contents_of
from mltracker.service.traces.timefmt import parse_duration, parse_timestamp

bp = Blueprint("traces", __name__)
_HINT = " See the API docs for more information about request parameters."
MAX_TRACES_PER_BATCH = 100


def _required(value, name: str):
    if value is None or value == "" or value == []:
        raise invalid(missing_value(name) + _HINT)
    return value


def _pairs(value, name: str) -> dict[str, str]:
    """A proto map in JSON ({"k": "v"}) or a repeated key/value message ([{"key", "value"}])."""
    if value is None:
        return {}
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        items = [(v.get("key"), v.get("value", "")) for v in value]
    else:
        raise invalid(f"Invalid value for parameter '{name}'.")
    pairs = {}
    for key, val in items:
        if not isinstance(key, str) or not key:
            raise invalid(missing_value(f"{name}.key") + _HINT)
        pairs[key] = "" if val is None else val if isinstance(val, str) else str(val)
    return pairs


def _experiment_id(conn, raw) -> int:
    return exps.resolve_experiment_id(conn, current_project_id(), raw, create=True)


def _trace_info_from_json(conn, data) -> tuple[TraceInfo, list[dict]]:
    """The trace info of a StartTraceV3 request, and the assessments it carries."""
    if not isinstance(data, dict):
        raise invalid(missing_value("trace.trace_info") + _HINT)
    trace_id = data.get("trace_id")
    if not isinstance(trace_id, str) or not trace_id or len(trace_id) > 50 or "/" in trace_id:
        raise invalid("Invalid value for parameter 'trace.trace_info.trace_id'." + _HINT)
    location = data.get("trace_location") or {}
    raw_experiment = (location.get("mlflow_experiment") or {}).get("experiment_id") if isinstance(location, dict) else None
    _required(raw_experiment, "trace.trace_info.trace_location.mlflow_experiment.experiment_id")
    request_time = data.get("request_time")
    duration = data.get("execution_duration")
    text = lambda key: data.get(key) if isinstance(data.get(key), str) else None  # noqa: E731
    found = data.get("assessments") or []
    if not isinstance(found, list) or not all(isinstance(a, dict) for a in found):
        raise invalid("Invalid value for parameter 'trace.trace_info.assessments'.")
    info = TraceInfo(
        trace_id=trace_id,
        experiment_id=_experiment_id(conn, raw_experiment),
        request_time_ms=parse_timestamp(request_time, "request_time") if request_time is not None else 0,
        execution_duration_ms=parse_duration(duration, "execution_duration") if duration is not None else None,
        state=data.get("state") or "STATE_UNSPECIFIED",
        client_request_id=text("client_request_id"),
        request_preview=text("request_preview"),
        response_preview=text("response_preview"),
        tags=_pairs(data.get("tags"), "tags"),
        metadata=_pairs(data.get("trace_metadata"), "trace_metadata"),
    )
    return info, found


@bp.post("/traces")
def start_trace():
    """StartTraceV3 ({"trace": {"trace_info": …}}) or the 2.x StartTrace ({"experiment_id", …})."""
    msg = message()
    project_id = current_project_id()
    if "trace" in msg:
        trace = msg.object("trace") or {}
        with services().db.write() as conn:
            info, new_assessments = _trace_info_from_json(conn, trace.get("trace_info"))
            store.start_trace(conn, project_id, info, new_assessments)
            stored = store.get_info(conn, project_id, info.trace_id)
            return json_response({"trace": {"trace_info": trace_info_json(stored)}})
    with services().db.write() as conn:
        experiment_id = _experiment_id(conn, _required(msg.string("experiment_id"), "experiment_id"))
        trace_id = store.start_trace_v2(
            conn, project_id, experiment_id, msg.integer("timestamp_ms", default=0),
            _pairs(msg.raw("request_metadata"), "request_metadata"), _pairs(msg.raw("tags"), "tags"),
        )
        return json_response({"trace_info": trace_info_v2_json(store.get_info(conn, project_id, trace_id))})


@bp.patch("/traces/<trace_id>")
def end_trace(trace_id: str):
    """The 2.x EndTrace."""
    msg = message()
    status = msg.string("status") or "STATE_UNSPECIFIED"
    with services().db.write() as conn:
        store.end_trace_v2(
            conn, current_project_id(), trace_id, msg.integer("timestamp_ms", default=0),
            STATE_OF_V2_STATUS.get(status, status),
            _pairs(msg.raw("request_metadata"), "request_metadata"), _pairs(msg.raw("tags"), "tags"),
        )
        return json_response({"trace_info": trace_info_v2_json(store.get_info(conn, current_project_id(), trace_id))})


@bp.get("/traces/<trace_id>")
def get_trace_info(trace_id: str):
    with services().db.read() as conn:
        info = store.get_info(conn, current_project_id(), trace_id)
        return json_response({"trace": {"trace_info": trace_info_json(info)}})


@bp.get("/traces/<trace_id>/info")
def get_trace_info_v2(trace_id: str):
    with services().db.read() as conn:
        return json_response({"trace_info": trace_info_v2_json(store.get_info(conn, current_project_id(), trace_id))})


def _traces_json(conn, rows) -> list[dict]:
    infos = store.load_infos(conn, rows)
    contents = contents_of(conn, [r.trace_id for r in rows])
    return [{"trace_info": trace_info_json(info), "spans": [span_json(c) for c in contents.get(info.trace_id, [])]}
            for info in infos]


@bp.get("/traces/get")
def get_trace():
    msg = message()
    trace_id = _required(msg.string("trace_id"), "trace_id")
    with services().db.read() as conn:
        row = store.get_row(conn, current_project_id(), trace_id)
        return json_response({"trace": _traces_json(conn, [row])[0]})


def _batch_ids(msg: RequestMessage) -> tuple[list[str], list[int] | None]:
    trace_ids = _required(msg.strings("trace_ids"), "trace_ids")
    if len(trace_ids) > MAX_TRACES_PER_BATCH:
        raise invalid(f"At most {MAX_TRACES_PER_BATCH} trace ids can be fetched in one request.")
    experiment_ids = None
    if "experiment_ids" in msg:
        experiment_ids = [exps.parse_experiment_id(e) for e in msg.strings("experiment_ids")]
    return trace_ids, experiment_ids


@bp.get("/traces/batchGet")
def batch_get_traces():
    trace_ids, experiment_ids = _batch_ids(message())
    with services().db.read() as conn:
        rows = store.rows_by_ids(conn, current_project_id(), trace_ids, experiment_ids)
        return json_response({"traces": _traces_json(conn, rows)})


@bp.post("/traces/batchGetInfos")
def batch_get_trace_infos():
    trace_ids, experiment_ids = _batch_ids(message())
    with services().db.read() as conn:
        rows = store.rows_by_ids(conn, current_project_id(), trace_ids, experiment_ids)
        return json_response({"trace_infos": [trace_info_json(i) for i in store.load_infos(conn, rows)]})


def _search(experiment_ids: list[str], msg: RequestMessage, v2: bool):
    project_id = current_project_id()
    with services().db.read() as conn:
        resolved = [exps.resolve_experiment_id(conn, project_id, e) for e in experiment_ids]
        page = search.search(
            conn, project_id, resolved, filter_string=msg.string("filter") or None,
            order_by=msg.strings("order_by") or None, max_results=msg.integer("max_results"),
            page_token=msg.string("page_token") or None,
        )
        infos = store.load_infos(conn, page.rows)
    payload = {"traces": [trace_info_v2_json(i) if v2 else trace_info_json(i) for i in infos]} if infos else {}
    if page.next_page_token:
        payload["next_page_token"] = page.next_page_token
    return json_response(payload)


@bp.post("/traces/search")
def search_traces():
    msg = message()
    locations = _required(msg.objects("locations"), "locations")
    experiment_ids = [
        (loc.get("mlflow_experiment") or {}).get("experiment_id") for loc in locations
        if isinstance(loc.get("mlflow_experiment"), dict)
    ]
    return _search([e for e in experiment_ids if e is not None], msg, v2=False)


@bp.get("/traces")
def search_traces_v2():
    msg = message()
    return _search(_required(msg.strings("experiment_ids"), "experiment_ids"), msg, v2=True)


@bp.post("/traces/delete-traces")
def delete_traces():
    msg = message()
    raw_experiment = _required(msg.string("experiment_id"), "experiment_id")
    project_id = current_project_id()
    with services().db.write() as conn:
        deleted = store.delete_traces(
            conn, project_id, exps.resolve_experiment_id(conn, project_id, raw_experiment),
            max_timestamp_ms=msg.integer("max_timestamp_millis"), max_traces=msg.integer("max_traces"),
            trace_ids=msg.strings("request_ids"),
        )
    return json_response({"traces_deleted": deleted})


@bp.patch("/traces/<trace_id>/tags")
def set_trace_tag(trace_id: str):
    msg = message()
    key = _required(msg.string("key"), "key")
    with services().db.write() as conn:
        store.set_tag(conn, current_project_id(), trace_id, key, msg.string("value") or "")
    return json_response({})


@bp.delete("/traces/<trace_id>/tags")
def delete_trace_tag(trace_id: str):
    msg = message()
    key = msg.string("key") or request.args.get("key")
    _required(key, "key")
    with services().db.write() as conn:
        store.delete_tag(conn, current_project_id(), trace_id, key)
    return json_response({})


@bp.post("/traces/link-to-run")
def link_traces_to_run():
    msg = message()
    trace_ids = _required(msg.strings("trace_ids"), "trace_ids")
    run_id = _required(msg.string("run_id"), "run_id")
    with services().db.write() as conn:
        store.link_to_run(conn, current_project_id(), trace_ids, run_id)
    return json_response({})


@bp.post("/traces/<trace_id>/assessments")
def create_assessment(trace_id: str):
    data = _required(message().object("assessment"), "assessment")
    with services().db.write() as conn:
        created = assessments.create(conn, current_project_id(), trace_id, data)
        return json_response({"assessment": assessment_json(created)})


@bp.get("/traces/<trace_id>/assessments/<assessment_id>")
def get_assessment(trace_id: str, assessment_id: str):
    with services().db.read() as conn:
        found = assessments.get(conn, current_project_id(), trace_id, assessment_id)
        return json_response({"assessment": assessment_json(found)})


@bp.patch("/traces/<trace_id>/assessments/<assessment_id>")
def update_assessment(trace_id: str, assessment_id: str):
    msg = message()
    changes = _required(msg.object("assessment"), "assessment")
    mask = msg.raw("update_mask")
    # A FieldMask is {"paths": [...]} in proto JSON's object form, or "a,b" in its string form.
    paths = mask.split(",") if isinstance(mask, str) else (mask or {}).get("paths") if isinstance(mask, dict) else None
    if not paths or not all(isinstance(p, str) for p in paths):
        raise invalid(missing_value("update_mask") + _HINT)
    paths = ["assessment_name" if p == "assessmentName" else p for p in paths]
    with services().db.write() as conn:
        updated = assessments.update_assessment(conn, current_project_id(), trace_id, assessment_id, changes, paths)
        return json_response({"assessment": assessment_json(updated)})


@bp.delete("/traces/<trace_id>/assessments/<assessment_id>")
def delete_assessment(trace_id: str, assessment_id: str):
    with services().db.write() as conn:
        assessments.delete_assessment(conn, current_project_id(), trace_id, assessment_id)
    return json_response({})


def get_trace_artifact():
    """GET …/get-trace-artifact?request_id=: the trace's spans as a traces.json download."""
    trace_id = request.args.get("request_id")
    if not trace_id:
        raise MlflowError('Request must include the "request_id" query parameter.', "BAD_REQUEST")
    with services().db.read() as conn:
        store.get_row(conn, current_project_id(), trace_id)
        contents = contents_of(conn, [trace_id]).get(trace_id, [])
    body = encode({"spans": [span_artifact_json(c) for c in contents]})
    response = Response(body, mimetype="text/plain")
    response.headers["Content-Disposition"] = "attachment; filename=traces.json"
    return response


artifacts_bp = Blueprint("trace_artifacts", __name__)
artifacts_bp.add_url_rule("/get-trace-artifact", view_func=get_trace_artifact)
