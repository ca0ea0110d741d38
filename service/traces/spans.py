"""Span ingestion (append-only, in bulk) and reading the spans of traces in one query.

An OTLP export carries spans of one or more traces. Each trace that is new here is created from
its spans (start = earliest span start, duration to the latest end, state from the root span);
one that exists and is not yet finalized by start-trace has its times widened. The spans go in as
one multi-row INSERT … ON CONFLICT DO NOTHING: a re-sent span is a no-op.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mltracker.service.db.bulk import executemany
from mltracker.service.db.traces_schema import spans, trace_info, trace_tags
from mltracker.service.db.upsert import dialect_insert, upsert_rows
from mltracker.service.errors import MlflowError
from mltracker.service.traces import store
from mltracker.service.traces.model import (
    ARTIFACT_LOCATION_TAG,
    SERVER_MANAGED_TAGS,
    SPANS_IN_TRACKING_STORE,
    SPANS_LOCATION_TAG,
    Span,
    SpanRecord,
    preview,
)
from mltracker.service.traces.otlp import STATUS_NAMES, decode_any_value, parse_span

SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", "name", "span_type", "status", "start_time_ns",
                "end_time_ns", "content")
_OPEN_STATES = ("IN_PROGRESS", "STATE_UNSPECIFIED")


@dataclass
class _TraceExtent:
    start_ms: int
    end_ms: int | None
    root: SpanRecord | None

    @property
    def state(self) -> str | None:
        if self.root is None:
            return None
        return "ERROR" if self.root.status == "ERROR" else "OK"


def _extents(records: list[SpanRecord]) -> dict[str, _TraceExtent]:
    by_trace = defaultdict(list)
    for record in records:
        by_trace[record.trace_id].append(record)
    extents = {}
    for trace_id, members in by_trace.items():
        ends = [r.end_time_ns for r in members if r.end_time_ns]
        extents[trace_id] = _TraceExtent(
            start_ms=min(r.start_time_ns for r in members) // 1_000_000,
            end_ms=max(ends) // 1_000_000 if ends else None,
            root=next((r for r in members if r.parent_span_id is None), None),
        )
    return extents


def log_spans(conn: Connection, project_id: int, experiment_id: int, records: list[SpanRecord]) -> None:
    if not records:
        return
    extents = _extents(records)
    trace_ids = sorted(extents)  # one lock order for concurrent writers
    existing = _existing_rows(conn, project_id, trace_ids)
    new_ids = [t for t in trace_ids if t not in existing]
    if new_ids:
        experiment = store.active_experiment(conn, project_id, experiment_id)
        _create_traces(conn, project_id, experiment, new_ids, extents)
    for trace_id, row in existing.items():
        _widen(conn, row, extents[trace_id])
    executemany(conn, _insert_spans(conn.dialect.name), SPAN_COLUMNS,
                [tuple(getattr(r, name) for name in SPAN_COLUMNS) for r in records])
    tag_rows = []
    for trace_id in trace_ids:
        root = extents[trace_id].root
        tags = {k: v for k, v in (root.trace_tags if root else {}).items()
                if k not in SERVER_MANAGED_TAGS and v is not None}
        # A trace created here got the tag with its row; one that start-trace created first gets it now.
        if trace_id in existing and existing[trace_id].finalized:
            tags[SPANS_LOCATION_TAG] = SPANS_IN_TRACKING_STORE
        store.check_pairs(tags, "tag")
        tag_rows.extend({"trace_id": trace_id, "key": k, "value": v} for k, v in tags.items())
    upsert_rows(conn, trace_tags, tag_rows, ["trace_id", "key"], ["value"])


@lru_cache(maxsize=None)
def _insert_spans(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING, one statement object per dialect (compiled once)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(spans).on_conflict_do_nothing()


def _existing_rows(conn: Connection, project_id: int, trace_ids: list[str]) -> dict:
    """The traces among trace_ids that exist, locked (PostgreSQL) against a concurrent export of the
    same trace; one taken in another project is refused."""
    found = {}
    for chunk in store.chunks(trace_ids):
        for row in conn.execute(select(trace_info).where(trace_info.c.trace_id.in_(chunk))
                                .order_by(trace_info.c.trace_id).with_for_update()):
            if row.project_id != project_id:
                raise MlflowError(f"Trace with ID '{row.trace_id}' already exists.", "RESOURCE_ALREADY_EXISTS")
            found[row.trace_id] = row
    return found


def _create_traces(conn: Connection, project_id: int, experiment, trace_ids: list[str], extents) -> None:
    rows = []
    for trace_id in trace_ids:
        extent = extents[trace_id]
        root = extent.root
        rows.append({
            "trace_id": trace_id, "project_id": project_id, "experiment_id": experiment.experiment_id,
            "request_time": extent.start_ms,
            "execution_duration": extent.end_ms - extent.start_ms if extent.end_ms is not None else None,
            "state": extent.state or "IN_PROGRESS", "client_request_id": None,
            "request_preview": preview(root.inputs) if root else None,
            "response_preview": preview(root.outputs) if root else None,
            "finalized": False,
        })
    # A concurrent export or start-trace may create the same trace first; then its times are left
    # to the spans and the start-trace still to come.
    conn.execute(dialect_insert(conn)(trace_info).on_conflict_do_nothing(), rows)
    conn.execute(dialect_insert(conn)(trace_tags).on_conflict_do_nothing(), [
        {"trace_id": t, "key": key, "value": value}
        for t in trace_ids
        for key, value in ((ARTIFACT_LOCATION_TAG, store.artifact_location(experiment, t)),
                           (SPANS_LOCATION_TAG, SPANS_IN_TRACKING_STORE))
    ])


def _widen(conn: Connection, row, extent: _TraceExtent) -> None:
    """Times widened to the new spans (until start-trace has set them), state and previews from a
    root span; written only when something changes."""
    values = {}
    if not row.finalized:
        start = min(row.request_time, extent.start_ms)
        ends = [e for e in (extent.end_ms, row.request_time + row.execution_duration
                            if row.execution_duration is not None else None) if e is not None]
        values["request_time"] = start
        values["execution_duration"] = max(ends) - start if ends else None
    root = extent.root
    if root is not None:
        if row.state in _OPEN_STATES:
            values["state"] = extent.state
        if row.request_preview is None and root.inputs is not None:
            values["request_preview"] = preview(root.inputs)
        if row.response_preview is None and root.outputs is not None:
            values["response_preview"] = preview(root.outputs)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if changed:
        conn.execute(update(trace_info).where(trace_info.c.trace_id == row.trace_id).values(**changed))


def contents_of(conn: Connection, trace_ids: list[str]) -> dict[str, list[bytes]]:
    """The stored OTLP messages of each trace's spans, in start order: one query per 500 traces."""
    found = defaultdict(list)
    for chunk in store.chunks(trace_ids):
        for row in conn.execute(
            select(spans.c.trace_id, spans.c.content).where(spans.c.trace_id.in_(chunk))
            .order_by(spans.c.trace_id, spans.c.start_time_ns, spans.c.span_id)
        ):
            found[row.trace_id].append(row.content)
    return found


def load_spans(conn: Connection, trace_id: str) -> list[Span]:
    """One trace's spans, decoded, in start order."""
    result = []
    for content in contents_of(conn, [trace_id]).get(trace_id, []):
        span = parse_span(content)
        attributes = {a.key: decode_any_value(a.value) for a in span.attributes}
        result.append(Span(
            span_id=span.span_id.hex(), parent_span_id=span.parent_span_id.hex() or None, name=span.name,
            span_type=attributes.get("mlflow.spanType"), status=STATUS_NAMES.get(span.status.code, "UNSET"),
            start_time_ns=span.start_time_unix_nano, end_time_ns=span.end_time_unix_nano or None,
            attributes=attributes,
        ))
    return result
