"""A trace as its page shows it: the span tree (depth-first, children by start time) with each span's
inputs, outputs, timing relative to the trace, and the trace's assessments."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from mltracker.service.traces.model import Assessment, Span

INPUTS_ATTRIBUTE = "mlflow.spanInputs"
OUTPUTS_ATTRIBUTE = "mlflow.spanOutputs"
HIDDEN_ATTRIBUTES = frozenset({INPUTS_ATTRIBUTE, OUTPUTS_ATTRIBUTE, "mlflow.traceRequestId", "mlflow.spanType"})
MAX_SHOWN_CHARS = 20_000  # a span's inputs or outputs beyond this are cut (the API has them whole)


@dataclass(frozen=True)
class SpanRow:
    span: Span
    depth: int
    offset_pct: float  # where the span starts in the trace's time line
    width_pct: float
    duration_ms: float | None
    inputs: str | None
    outputs: str | None
    attributes: dict[str, str]


def pretty(value) -> str | None:
    """JSON text (MLflow keeps span inputs and outputs as JSON strings) indented for reading."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value[:MAX_SHOWN_CHARS]
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "\n… (cut)"


def span_rows(spans: list[Span]) -> list[SpanRow]:
    if not spans:
        return []
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children[parent].append(span)
    for group in children.values():
        group.sort(key=lambda s: (s.start_time_ns, s.span_id))
    start = min(s.start_time_ns for s in spans)
    end = max((s.end_time_ns or s.start_time_ns) for s in spans)
    total = max(end - start, 1)
    rows: list[SpanRow] = []
    pending = [(span, 0) for span in reversed(children[None])]
    while pending:  # depth-first without recursion: a deep trace cannot overflow the stack
        span, depth = pending.pop()
        finish = span.end_time_ns or span.start_time_ns
        rows.append(SpanRow(
            span=span, depth=depth,
            offset_pct=100 * (span.start_time_ns - start) / total,
            width_pct=max(100 * (finish - span.start_time_ns) / total, 0.5),
            duration_ms=(span.end_time_ns - span.start_time_ns) / 1e6 if span.end_time_ns else None,
            inputs=pretty(span.attributes.get(INPUTS_ATTRIBUTE)),
            outputs=pretty(span.attributes.get(OUTPUTS_ATTRIBUTE)),
            attributes={k: str(v)[:1000] for k, v in sorted(span.attributes.items()) if k not in HIDDEN_ATTRIBUTES},
        ))
        pending.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    return rows


@dataclass(frozen=True)
class AssessmentRow:
    name: str
    kind: str  # feedback | expectation
    value: str
    failed: bool
    rationale: str | None
    source: str | None
    error: str | None


def assessment_rows(items: list[Assessment]) -> list[AssessmentRow]:
    rows = []
    for item in items:
        if not item.valid:
            continue
        value, error = item.value, item.error
        failed = item.kind == "feedback" and (value is False or (isinstance(value, str) and value.lower() in
                                                                  ("no", "false", "fail", "failed")) or bool(error))
        rows.append(AssessmentRow(
            name=item.name, kind=item.kind,
            value=json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value,
            failed=failed, rationale=item.rationale,
            source=item.source.get("source_id") or item.source.get("source_type"),
            error=(error.get("error_message") or error.get("error_code")) if isinstance(error, dict) else error,
        ))
    return sorted(rows, key=lambda r: (r.kind != "feedback", r.name))
