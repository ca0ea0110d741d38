"""search_datasets: MLflow's evaluation-dataset filter grammar compiled to SQLAlchemy.

    attributes: name (=, !=, LIKE, ILIKE, IN), created_by, last_updated_by (=, !=, LIKE, ILIKE),
                created_time, last_update_time (integers: =, !=, <, <=, >, >=)
    tags.<key>: =, !=, LIKE, ILIKE
    order_by:   name, created_time, last_update_time [ASC|DESC]; default "created_time DESC";
                ties broken by dataset_id DESC.
"""
from __future__ import annotations

from sqlalchemy import Connection, exists, select
from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.db.evaluation_schema import (
    evaluation_dataset_experiments,
    evaluation_dataset_tags,
    evaluation_datasets,
)
from mltracker.service.errors import invalid
from mltracker.service.search.filter_parser import parse_raw_filter
from mltracker.service.search.order_by import parse_order_entry
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.search.syntax import (
    NUMERIC_COMPARATORS,
    TEXT_COMPARATORS,
    Comparator,
    ListLiteral,
    RawComparison,
)
from mltracker.service.search.text_match import compare_text, compare_value

MAX_PAGE = 1000
SEARCH_ATTRIBUTES = {"name", "created_time", "last_update_time", "created_by", "last_updated_by"}
ORDER_ATTRIBUTES = {"name", "created_time", "last_update_time"}
NUMERIC_ATTRIBUTES = {"created_time", "last_update_time"}

d = evaluation_datasets


def _identifier(parts: tuple[str, ...], valid: set[str]) -> tuple[str, str]:
    if len(parts) == 1:
        if parts[0] not in valid:
            raise invalid(f"Invalid attribute key '{parts[0]}' specified. Valid keys are: {sorted(valid)}")
        return "attribute", parts[0]
    if parts[0] == "tags":
        return "tag", ".".join(parts[1:])
    raise invalid(f"Invalid identifier token '{parts[0]}' specified")


def _condition(raw: RawComparison, dialect: str) -> ColumnElement:
    kind, key = _identifier(raw.name.parts, SEARCH_ATTRIBUTES)
    op = raw.comparator
    if isinstance(raw.value, ListLiteral):
        if op is not Comparator.IN or key != "name" or kind != "attribute":
            raise invalid("List values for 'name' are only supported with the IN comparator.")
        return d.c.name.in_([str(item.value) for item in raw.value.items])
    if raw.value is None:
        raise invalid(f"Invalid comparator for {key}: {op}")
    value = raw.value.value
    if kind == "tag":
        if op not in TEXT_COMPARATORS:
            raise invalid(f"Invalid comparator for tag: {_op_text(op)}")
        t = evaluation_dataset_tags
        return exists(select(t.c.dataset_id).where(
            t.c.dataset_id == d.c.dataset_id, t.c.key == key, compare_text(t.c.value, op, str(value), dialect),
        ))
    if key in NUMERIC_ATTRIBUTES:
        if op not in NUMERIC_COMPARATORS:
            raise invalid(f"Invalid comparator for numeric attribute: {_op_text(op)}")
        if isinstance(value, float) or isinstance(value, bool):
            raise invalid(f"Invalid value for numeric attribute '{key}': {raw.value.text!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid(f"Invalid value for numeric attribute '{key}': {value!r}") from None
        return compare_value(d.c[key], op, number)
    if op not in TEXT_COMPARATORS:
        raise invalid(f"Invalid comparator for string attribute: {_op_text(op)}")
    return compare_text(d.c[key], op, str(value), dialect)


def _op_text(op) -> str:
    return op.value if isinstance(op, Comparator) else str(op)


def _ordering(order_by: list[str] | None) -> list:
    clauses = []
    for entry in order_by or ["created_time DESC"]:
        name, ascending = parse_order_entry(entry)
        kind, key = _identifier(name.parts, ORDER_ATTRIBUTES)
        if kind != "attribute":
            raise invalid(f"Invalid order_by entity: {kind}")
        clauses.append(d.c[key].asc() if ascending else d.c[key].desc())
    clauses.append(d.c.dataset_id.desc())
    return clauses


def search(conn: Connection, project_id: int, experiment_ids: list[int] | None, filter_string: str | None,
           max_results: int | None, order_by: list[str] | None, page_token: str | None) -> tuple[list, str | None]:
    if max_results is not None and max_results <= 0:
        raise invalid(f"Invalid value for max_results: {max_results}. It must be a positive integer.")
    limit = min(max_results or MAX_PAGE, MAX_PAGE)
    offset = decode_offset(page_token)
    conditions = [_condition(raw, conn.dialect.name) for raw in parse_raw_filter(filter_string)]
    if experiment_ids:
        links = evaluation_dataset_experiments
        conditions.append(exists(select(links.c.dataset_id).where(
            links.c.dataset_id == d.c.dataset_id, links.c.experiment_id.in_(experiment_ids))))
    query = (select(d).where(d.c.project_id == project_id, *conditions)
             .order_by(*_ordering(order_by)).offset(offset).limit(limit + 1))
    rows = conn.execute(query).all()
    token = encode_offset(offset + limit) if len(rows) > limit else None
    return rows[:limit], token
