"""The trace lists of the UI: an experiment's or a candidate's traces, filtered with MLflow's trace
grammar (compiled by service/traces/search) and, optionally, to those a scorer failed.

A trace failed when one of its valid feedback assessments says false or "no", or carries an
error (the scorer raised): what `mlflow.genai.evaluate` records for a failing example."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, String, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.db.traces_schema import assessments, trace_info, trace_runs
from mltracker.service.search.filter_parser import parse_raw_filter
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.traces.search import compile_clause
from mltracker.service.traces.store import load_infos
from mltracker.service.traces.model import TraceInfo

PAGE_SIZE = 50
FAILING_WORDS = ("no", "false", "fail", "failed")


@dataclass(frozen=True)
class TracePage:
    traces: list[TraceInfo]
    next_token: str | None


def _failing_feedback(dialect: str) -> ColumnElement:
    a = assessments
    if dialect == "postgresql":
        body = cast(a.c.body, JSONB)
        value = body["feedback"]["value"]
        failed = or_(
            func.lower(value.astext).in_(FAILING_WORDS),  # JSON false reads as 'false' too
            body["feedback"].has_key("error"),  # noqa: W601 (SQLAlchemy's JSONB operator)
        )
    else:
        path_value, path_error = "$.feedback.value", "$.feedback.error"
        failed = or_(
            func.json_type(a.c.body, path_value) == "false",
            func.lower(cast(func.json_extract(a.c.body, path_value), String)).in_(FAILING_WORDS),
            func.json_type(a.c.body, path_error).is_not(None),
        )
    return exists(select(a.c.assessment_id).where(
        a.c.trace_id == trace_info.c.trace_id, a.c.kind == "feedback", a.c.valid.is_(True), failed,
    ))


def trace_page(conn: Connection, project_id: int, *, experiment_id: int | None = None, run_id: str | None = None,
               filter_string: str | None = None, failing_only: bool = False,
               page_token: str | None = None) -> TracePage:
    """Newest first, PAGE_SIZE at a time. Filter errors raise MlflowError (the page shows them)."""
    dialect = conn.dialect.name
    conditions = [compile_clause(raw, dialect) for raw in parse_raw_filter(filter_string)]
    query = select(trace_info).where(trace_info.c.project_id == project_id, *conditions)
    if experiment_id is not None:
        query = query.where(trace_info.c.experiment_id == experiment_id)
    if run_id is not None:
        query = query.where(trace_info.c.trace_id.in_(
            select(trace_runs.c.trace_id).where(trace_runs.c.run_id == run_id)))
    if failing_only:
        query = query.where(_failing_feedback(dialect))
    offset = decode_offset(page_token)
    rows = conn.execute(query.order_by(trace_info.c.request_time.desc(), trace_info.c.trace_id)
                        .offset(offset).limit(PAGE_SIZE + 1)).all()
    token = encode_offset(offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None
    return TracePage(load_infos(conn, rows[:PAGE_SIZE]), token)
