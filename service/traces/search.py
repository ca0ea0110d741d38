"""search_traces: MLflow's trace filter grammar and order_by, compiled to SQL, with offset pages.

    trace.status = 'OK'                    trace.timestamp_ms > 1700000000000
    trace.execution_time_ms >= 100         trace.end_time_ms < …        trace.request_id IN ('tr-…')
    trace.name = 'predict'                 (the mlflow.traceName tag)
    trace.run_id = '<run id>'              (the trace's mlflow.sourceRun, or a link-to-run)
    tag.<key> / metadata.<key>  = != LIKE ILIKE IS [NOT] NULL
    span.name / span.type / span.status    = != IN NOT IN LIKE ILIKE (some span of the trace)

`attribute.`, `attributes.` and no prefix mean `trace.`; `tags.` and `request_metadata.` are
`tag.` and `metadata.`. Clauses join with AND. A tag or metadata clause is an EXISTS on its
(trace, key) primary key; a span clause scans only the trace's own spans (one primary-key range).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, not_, select
from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.db.traces_schema import spans, trace_info, trace_metadata, trace_runs, trace_tags
from mltracker.service.errors import invalid
from mltracker.service.search.filter_parser import parse_raw_filter
from mltracker.service.search.order_by import parse_order_entry
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.search.syntax import (
    KEY_VALUE_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_ATTRIBUTE_COMPARATORS,
    Comparator,
    ListLiteral,
    Literal,
    RawComparison,
    RawName,
)
from mltracker.service.search.text_match import compare_text, compare_value
from mltracker.service.search.vocabulary import invalid_comparator
from mltracker.service.traces.model import SOURCE_RUN_METADATA, STATE_OF_V2_STATUS, TRACE_NAME_TAG

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS = 500  # mlflow server refuses more per page

ENTITY_ALIASES = {
    "trace": "attribute", "attribute": "attribute", "attributes": "attribute",
    "tag": "tag", "tags": "tag",
    "metadata": "metadata", "request_metadata": "metadata",
    "span": "span",
}
end_time = trace_info.c.request_time + trace_info.c.execution_duration
NUMERIC_ATTRIBUTES = {
    "timestamp_ms": trace_info.c.request_time, "timestamp": trace_info.c.request_time,
    "execution_time_ms": trace_info.c.execution_duration, "execution_time": trace_info.c.execution_duration,
    "end_time_ms": end_time, "end_time": end_time,
}
TEXT_ATTRIBUTES = {
    "status": trace_info.c.state, "request_id": trace_info.c.trace_id,
    "client_request_id": trace_info.c.client_request_id,
}
SPAN_FIELDS = {"name": spans.c.name, "type": spans.c.span_type, "status": spans.c.status}
ORDER_COLUMNS = {
    **NUMERIC_ATTRIBUTES, "status": trace_info.c.state, "request_id": trace_info.c.trace_id,
    "experiment_id": trace_info.c.experiment_id,
}


def _entity(name: RawName) -> tuple[str, str]:
    if len(name.parts) == 1:
        return "attribute", name.parts[0]
    prefix, key = name.parts[0].lower(), ".".join(name.parts[1:])
    entity = ENTITY_ALIASES.get(prefix)
    if entity is None:
        raise invalid(f"Invalid entity type '{name.parts[0]}'. Valid values are "
                      f"{sorted(set(ENTITY_ALIASES))}")
    return entity, key


def _comparator(raw: RawComparison, allowed, what: str) -> Comparator:
    if raw.comparator not in allowed:
        raise invalid_comparator(str(raw.comparator), [str(c) for c in allowed])
    return raw.comparator


def _text(value, what: str):
    if isinstance(value, ListLiteral):
        if not value.items or any(item.kind != "string" for item in value.items):
            raise invalid(f"Expected a non-empty list of quoted strings for {what}.")
        return tuple(item.value for item in value.items)
    if isinstance(value, Literal) and value.kind == "string":
        return value.value
    raise invalid(f"Expected a quoted string value for {what}. Got value {value.text if value else None}")


def _number(value, what: str):
    if isinstance(value, Literal) and value.kind == "number":
        return value.value
    raise invalid(f"Expected numeric value type for {what}. Found {value.text if value else None}")


def compile_clause(raw: RawComparison, dialect: str) -> ColumnElement:
    entity, key = _entity(raw.name)
    what = f"{entity} '{key}'"
    if entity == "attribute":
        if key in NUMERIC_ATTRIBUTES:
            comparator = _comparator(raw, NUMERIC_COMPARATORS, what)
            return compare_value(NUMERIC_ATTRIBUTES[key], comparator, _number(raw.value, what))
        if key in TEXT_ATTRIBUTES:
            comparator = _comparator(raw, STRING_ATTRIBUTE_COMPARATORS, what)
            value = _text(raw.value, what)
            if key == "status":
                value = (tuple(STATE_OF_V2_STATUS.get(v, v) for v in value) if isinstance(value, tuple)
                         else STATE_OF_V2_STATUS.get(value, value))
            return compare_text(TEXT_ATTRIBUTES[key], comparator, value, dialect)
        if key == "name":
            return _key_value(trace_tags, TRACE_NAME_TAG, raw, KEY_VALUE_COMPARATORS, what, dialect)
        if key == "run_id":
            comparator = _comparator(raw, STRING_ATTRIBUTE_COMPARATORS, what)
            value = _text(raw.value, what)
            linked = exists().where(trace_runs.c.trace_id == trace_info.c.trace_id,
                                    compare_text(trace_runs.c.run_id, _positive(comparator), value, dialect))
            return not_(linked) if comparator in (Comparator.NE, Comparator.NOT_IN) else linked
        raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are "
                      f"{sorted([*NUMERIC_ATTRIBUTES, *TEXT_ATTRIBUTES, 'name', 'run_id'])}")
    if entity == "tag":
        return _key_value(trace_tags, key, raw, KEY_VALUE_COMPARATORS, what, dialect)
    if entity == "metadata":
        if key == SOURCE_RUN_METADATA and raw.comparator is Comparator.EQ:
            # Also matches traces linked to the run later, as mlflow's run filter does.
            return compile_clause(RawComparison(RawName(("trace", "run_id"), "run_id"), raw.comparator,
                                                raw.value), dialect)
        return _key_value(trace_metadata, key, raw, KEY_VALUE_COMPARATORS, what, dialect)
    column = SPAN_FIELDS.get(key)
    if column is None:
        raise invalid(f"Invalid span attribute '{key}'. Supported attributes: {sorted(SPAN_FIELDS)}")
    comparator = _comparator(raw, STRING_ATTRIBUTE_COMPARATORS, what)
    return exists().where(spans.c.trace_id == trace_info.c.trace_id,
                          compare_text(column, comparator, _text(raw.value, what), dialect))


def _positive(comparator: Comparator) -> Comparator:
    return {Comparator.NE: Comparator.EQ, Comparator.NOT_IN: Comparator.IN}.get(comparator, comparator)


def _key_value(table, key: str, raw: RawComparison, allowed, what: str, dialect: str) -> ColumnElement:
    comparator = _comparator(raw, allowed, what)
    same_key = and_(table.c.trace_id == trace_info.c.trace_id, table.c.key == key)
    if comparator is Comparator.IS_NULL:
        return not_(exists().where(same_key))
    if comparator is Comparator.IS_NOT_NULL:
        return exists().where(same_key)
    return exists().where(same_key, compare_text(table.c.value, comparator, _text(raw.value, what), dialect))


def _order(order_by: list[str] | None) -> list:
    clauses, seen = [], set()
    for entry in order_by or []:
        name, ascending = parse_order_entry(entry)
        entity, key = _entity(name)
        if entity == "attribute" and key in ORDER_COLUMNS:
            column = ORDER_COLUMNS[key]
        elif (entity, key) in (("attribute", "name"), ("tag", TRACE_NAME_TAG)) or entity in ("tag", "metadata"):
            table = trace_metadata if entity == "metadata" else trace_tags
            tag_key = TRACE_NAME_TAG if key == "name" and entity == "attribute" else key
            column = (select(table.c.value).where(table.c.trace_id == trace_info.c.trace_id, table.c.key == tag_key)
                      .scalar_subquery())
        else:
            raise invalid(f"Invalid order_by entity: {entry}")
        if (entity, key) in seen:
            raise invalid(f"`order_by` contains duplicate fields: {order_by}")
        seen.add((entity, key))
        clauses.extend([column.is_(None), column if ascending else column.desc()])  # missing values last
    return [*clauses, trace_info.c.request_time.desc(), trace_info.c.trace_id]


@dataclass
class Page:
    rows: list
    next_page_token: str | None


def search(conn: Connection, project_id: int, experiment_ids: list[int], *, filter_string: str | None,
           order_by: list[str] | None, max_results: int | None, page_token: str | None) -> Page:
    if max_results is None or max_results == 0:
        max_results = DEFAULT_MAX_RESULTS
    if max_results < 0 or max_results > MAX_RESULTS:
        raise invalid(f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most "
                      f"{MAX_RESULTS}")
    offset = decode_offset(page_token)
    dialect = conn.dialect.name
    conditions = [compile_clause(raw, dialect) for raw in parse_raw_filter(filter_string)]
    if not experiment_ids:
        return Page([], None)
    stmt = (
        select(trace_info)
        .where(trace_info.c.project_id == project_id, trace_info.c.experiment_id.in_(experiment_ids),
               *conditions)
        .order_by(*_order(order_by))
        .offset(offset)
        .limit(max_results + 1)
    )
    rows = conn.execute(stmt).all()
    token = encode_offset(offset + max_results) if len(rows) > max_results else None
    return Page(rows[:max_results], token)

