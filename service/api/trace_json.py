"""The MLflow JSON of traces: TraceInfoV3, the 2.x TraceInfo of the legacy endpoints, Assessment,
and a stored span (an OTLP `Span` message) as the Trace message's `spans` entries or as the
traces.json artifact (MLflow's Span.to_dict)."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from google.protobuf import json_format

from mltracker.service.traces.model import V2_STATUS_OF_STATE, Assessment, TraceInfo, mlflow_trace_id
from mltracker.service.traces.otlp import decode_any_value, parse_span

STATUS_CODE_NAMES = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}
REQUEST_ID_ATTRIBUTE = "mlflow.traceRequestId"


def format_timestamp(ms: int) -> str:
    """Protobuf's JSON Timestamp ("2025-01-02T03:04:05.678Z")."""
    seconds, millis = divmod(ms, 1000)
    text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def format_duration(ms: int) -> str:
    """Protobuf's JSON Duration ("1.5s")."""
    sign = "-" if ms < 0 else ""
    seconds, millis = divmod(abs(ms), 1000)
    return f"{sign}{seconds}.{millis:03d}s" if millis else f"{sign}{seconds}s"


def assessment_json(assessment: Assessment) -> dict:
    data = {"assessment_id": assessment.assessment_id, "assessment_name": assessment.name,
            "trace_id": assessment.trace_id}
    data.update(assessment.details)
    data["create_time"] = format_timestamp(assessment.create_time_ms)
    data["last_update_time"] = format_timestamp(assessment.last_update_time_ms)
    if assessment.overrides:
        data["overrides"] = assessment.overrides
    data["valid"] = assessment.valid
    return data


def trace_info_json(info: TraceInfo) -> dict:
    """TraceInfoV3."""
    data: dict[str, Any] = {
        "trace_id": info.trace_id,
        "trace_location": {"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": str(info.experiment_id)}},
        "request_time": format_timestamp(info.request_time_ms),
    }
    if info.execution_duration_ms is not None:
        data["execution_duration"] = format_duration(info.execution_duration_ms)
    data["state"] = info.state
    if info.client_request_id is not None:
        data["client_request_id"] = info.client_request_id
    if info.metadata:
        data["trace_metadata"] = dict(info.metadata)
    if info.assessments:
        data["assessments"] = [assessment_json(a) for a in info.assessments]
    if info.tags:
        data["tags"] = dict(info.tags)
    if info.request_preview is not None:
        data["request_preview"] = info.request_preview
    if info.response_preview is not None:
        data["response_preview"] = info.response_preview
    return data


def trace_info_v2_json(info: TraceInfo) -> dict:
    """The 2.x TraceInfo of the legacy endpoints."""
    data: dict[str, Any] = {
        "request_id": info.trace_id,
        "experiment_id": str(info.experiment_id),
        "timestamp_ms": info.request_time_ms,
    }
    if info.execution_duration_ms is not None:
        data["execution_time_ms"] = info.execution_duration_ms
    data["status"] = V2_STATUS_OF_STATE.get(info.state, info.state)
    if info.metadata:
        data["request_metadata"] = [{"key": k, "value": v} for k, v in sorted(info.metadata.items())]
    if info.tags:
        data["tags"] = [{"key": k, "value": v} for k, v in info.tags.items()]
    return data


def span_json(content: bytes) -> dict:
    """A stored span as the `spans` entries of MLflow's Trace message in JSON."""
    data = json_format.MessageToDict(parse_span(content), preserving_proto_field_name=True)
    for field in ("start_time_unix_nano", "end_time_unix_nano"):
        if field in data:
            data[field] = int(data[field])
    return data


def span_artifact_json(content: bytes) -> dict:
    """A stored span as MLflow's Span.to_dict (the traces.json artifact): attribute values as JSON."""
    span = parse_span(content)
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return {
        "trace_id": b64(span.trace_id),
        "span_id": b64(span.span_id),
        "parent_span_id": b64(span.parent_span_id) if span.parent_span_id else None,
        "name": span.name,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano or None,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano,
             "attributes": {a.key: decode_any_value(a.value) for a in e.attributes}}
            for e in span.events
        ],
        "status": {"code": STATUS_CODE_NAMES.get(span.status.code, "STATUS_CODE_UNSET"),
                   "message": span.status.message},
        "attributes": {
            # MLflow's spans name their trace in an attribute; spans from other exporters get it here.
            REQUEST_ID_ATTRIBUTE: json.dumps(mlflow_trace_id(span.trace_id.hex())),
            **{a.key: json.dumps(decode_any_value(a.value), ensure_ascii=False) for a in span.attributes},
        },
        "links": [],
    }
