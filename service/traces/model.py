"""The typed values of the traces domain (their MLflow JSON is written by service/api/trace_json.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Assessment:
    """A feedback (a judgement, by a human, an LLM judge or code) or an expectation (the ground truth)."""

    assessment_id: str
    name: str
    trace_id: str
    kind: str  # feedback | expectation
    create_time_ms: int
    last_update_time_ms: int
    valid: bool
    overrides: str | None
    # The rest as the client sent it, kept verbatim: source, feedback | expectation, rationale,
    # metadata, span_id, run_id … (MLflow's Assessment fields, in the client's order).
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> Any:
        return (self.details.get(self.kind) or {}).get("value")

    @property
    def error(self) -> Any:
        """A scorer's error: MLflow's {"error_code", "error_message"}, or text."""
        return (self.details.get(self.kind) or {}).get("error")

    @property
    def rationale(self) -> str | None:
        return self.details.get("rationale")

    @property
    def source(self) -> dict[str, Any]:
        return self.details.get("source") or {}


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
    assessments: list[Assessment] = field(default_factory=list)
