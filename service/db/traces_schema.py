"""MLflow 3 traces: one row per trace, its tags, metadata and assessments, the runs it belongs to,
and its spans.

Spans are append-only: each arrives once per OTLP export and is inserted in bulk with
ON CONFLICT DO NOTHING (a retried export changes nothing). A span keeps the OTLP `Span` message it
arrived as (`content`), plus the few fields the search grammar reads; the spans of one trace are one
primary-key range, read in one query. Deleting a trace removes everything hanging off it (cascade).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, LargeBinary, String, Table, Text

from mltracker.service.db.metadata import metadata

trace_info = Table(
    "trace_info",
    metadata,
    Column("trace_id", String(50), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False),
    Column("request_time", BigInteger, nullable=False),  # ms since the epoch
    Column("execution_duration", BigInteger),  # ms
    Column("state", String(32), nullable=False),
    Column("client_request_id", String(250)),
    Column("request_preview", Text),
    Column("response_preview", Text),
    # Set by start-trace (the client's final word on times and state); spans then stop changing them.
    Column("finalized", Boolean, nullable=False, default=False),
    Index(None, "experiment_id", "request_time"),
    Index(None, "experiment_id", "execution_duration"),
)

trace_tags = Table(
    "trace_tags",
    metadata,
    Column("trace_id", ForeignKey("trace_info.trace_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    sqlite_with_rowid=False,
)

trace_metadata = Table(
    "trace_metadata",
    metadata,
    Column("trace_id", ForeignKey("trace_info.trace_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    sqlite_with_rowid=False,
)

# The runs a trace belongs to: its `mlflow.sourceRun` and every link-to-run. Keyed by run first,
# so "the traces of run R" is one index range.
trace_runs = Table(
    "trace_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("trace_id", ForeignKey("trace_info.trace_id", ondelete="CASCADE"), primary_key=True),
    Index(None, "trace_id"),
    sqlite_with_rowid=False,
)

spans = Table(
    "spans",
    metadata,
    Column("trace_id", ForeignKey("trace_info.trace_id", ondelete="CASCADE"), primary_key=True),
    Column("span_id", String(16), primary_key=True),  # hex of the 8-byte OTLP span id
    Column("parent_span_id", String(16)),
    Column("name", Text, nullable=False),
    Column("span_type", String(500)),
    Column("status", String(16), nullable=False),  # UNSET | OK | ERROR
    Column("start_time_ns", BigInteger, nullable=False),
    Column("end_time_ns", BigInteger),
    Column("content", LargeBinary, nullable=False),  # the OTLP Span message, serialized
)

assessments = Table(
    "assessments",
    metadata,
    Column("assessment_id", String(50), primary_key=True),
    Column("trace_id", ForeignKey("trace_info.trace_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("kind", String(16), nullable=False),  # feedback | expectation
    Column("create_time_ms", BigInteger, nullable=False),
    Column("last_update_time_ms", BigInteger, nullable=False),
    Column("valid", Boolean, nullable=False, default=True),
    Column("overrides", String(50)),
    # The assessment as MLflow's JSON (source, value, rationale, metadata, span_id, run_id, error…),
    # without the columns above.
    Column("body", Text, nullable=False),
    Index(None, "trace_id"),
)
