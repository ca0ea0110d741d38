"""The typed values of the traces domain and their MLflow JSON shapes (TraceInfoV3, and the 2.x
TraceInfo the legacy endpoints answer with)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mltracker.service.traces.timefmt import format_duration, format_timestamp

TRACE_ID_PREFIX = "tr-"
STATES = ("STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS")
V2_STATUS_OF_STATE = {"STATE_UNSPECIFIED": "TRACE_STATUS_UNSPECIFIED"}
STATE_OF_V2_STATUS = {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}

# Keys of tags and metadata the server writes.
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
SPANS_IN_TRACKING_STORE = "TRACKING_STORE"
TRACE_NAME_TAG = "mlflow.traceName"
SOURCE_RUN_METADATA = "mlflow.sourceRun"
INFO_FINALIZED_METADATA = "mlflow.trace.infoFinalized"
# Tags no client may set or delete through the tag endpoints (mlflow server refuses them too).
SERVER_MANAGED_TAGS = frozenset({ARTIFACT_LOCATION_TAG, SPANS_LOCATION_TAG})

PREVIEW_MAX_CHARS = 1000  # mlflow's TRACE_REQUEST_RESPONSE_PREVIEW_MAX_LENGTH_OSS


def mlflow_trace_id(otel_trace_id_hex: str) -> str:
    """MLflow's id of the trace with this OTel trace id: "tr-" and the 32 hex digits."""
    return TRACE_ID_PREFIX + otel_trace_id_hex


def preview(text: str | None) -> str | None:
    if text is None or len(text) <= PREVIEW_MAX_CHARS:
        return text
    return text[: PREVIEW_MAX_CHARS - 3] + "..."


@dataclass(frozen=True)
class SpanRecord:
    """One span as ingested: the fields searches and trace info read, and the OTLP message."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    span_type: str | None
    status: str  # UNSET | OK | ERROR
    start_time_ns: int
    end_time_ns: int | None
    content: bytes
    inputs: str | None = None  # root spans only: the trace's request and response, as JSON text
    outputs: str | None = None
    trace_tags: dict[str, str] = field(default_factory=dict)  # root spans only


@dataclass(frozen=True)
class Span:
    """A stored span, decoded (for pages that show a trace's span tree)."""

    span_id: str
    parent_span_id: str | None
    name: str
    span_type: str | None
    status: str
    start_time_ns: int
    end_time_ns: int | None
    attributes: dict[str, Any]


@dataclass
class TraceInfo:
    trace_id: str
    experiment_id: int
    request_time_ms: int
    execution_duration_ms: int | None
    state: str
    client_request_id: str | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    assessments: list[dict] = field(default_factory=list)  # MLflow's Assessment JSON

    def to_json(self) -> dict:
        """TraceInfoV3."""
        data: dict[str, Any] = {
            "trace_id": self.trace_id,
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": str(self.experiment_id)}},
            "request_time": format_timestamp(self.request_time_ms),
        }
        if self.execution_duration_ms is not None:
            data["execution_duration"] = format_duration(self.execution_duration_ms)
        data["state"] = self.state
        if self.client_request_id is not None:
            data["client_request_id"] = self.client_request_id
        if self.metadata:
            data["trace_metadata"] = dict(self.metadata)
        if self.assessments:
            data["assessments"] = list(self.assessments)
        if self.tags:
            data["tags"] = dict(self.tags)
        if self.request_preview is not None:
            data["request_preview"] = self.request_preview
        if self.response_preview is not None:
            data["response_preview"] = self.response_preview
        return data

    def to_v2_json(self) -> dict:
        """The 2.x TraceInfo of the legacy endpoints."""
        data: dict[str, Any] = {
            "request_id": self.trace_id,
            "experiment_id": str(self.experiment_id),
            "timestamp_ms": self.request_time_ms,
        }
        if self.execution_duration_ms is not None:
            data["execution_time_ms"] = self.execution_duration_ms
        data["status"] = V2_STATUS_OF_STATE.get(self.state, self.state)
        if self.metadata:
            data["request_metadata"] = [{"key": k, "value": v} for k, v in sorted(self.metadata.items())]
        if self.tags:
            data["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        return data
