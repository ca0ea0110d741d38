"""search_logged_models: MLflow's filter grammar for logged models compiled to SQLAlchemy.

    attributes: name, model_id, model_type, status, source_run_id, creation_timestamp(_ms),
                creation_time, last_updated_timestamp(_ms)      (optionally `attributes.` first)
    params.<key>, tags.<key>: string comparisons; metrics.<key>: numeric.

A metric filter matches a model with any logged point satisfying it (on one of the request's
datasets, when given); a metric order key sorts by the model's latest point (missing last); the
`datasets` clause alone keeps models with a metric on one of those datasets. All as MLflow does.
"""
from __future__ import annotations

import base64
import binascii
import json

from sqlalchemy import Connection, and_, case, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.db.registry_schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from mltracker.service.errors import invalid
from mltracker.service.logged_models.status import NAMES
from mltracker.service.search.filter_parser import parse_raw_filter
from mltracker.service.search.syntax import (
    NUMERIC_COMPARATORS,
    STRING_ATTRIBUTE_COMPARATORS,
    Comparator,
    ListLiteral,
    RawComparison,
)
from mltracker.service.search.text_match import compare_text, compare_value
from mltracker.service.tracking import experiments as exps

DEFAULT_MAX_RESULTS = 100
ALIASES = {
    "creation_time": "creation_timestamp_ms",
    "creation_timestamp": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
}
NUMERIC_ATTRIBUTES = {"creation_timestamp_ms", "last_updated_timestamp_ms"}
STRING_ATTRIBUTES = {"name", "model_id", "model_type", "status", "source_run_id", "experiment_id"}
# The order MLflow's error message lists the allowed comparators in.
_MESSAGE_ORDER = ("<", "<=", ">", ">=", "=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_ENTITIES = ("attributes", "metrics", "params", "tags")
_STATUS_BY_NAME = {**{name: n for n, name in NAMES.items()}, "PENDING": 1, "READY": 2, "FAILED": 3,
                   "UPLOAD_FAILED": 3, "UNSPECIFIED": 0}


def _entity_and_key(raw: RawComparison) -> tuple[str, str]:
    r"""`<entity>.<key>` when the name has a lower-case prefix (as MLflow's `^([a-z]+)\.(.+)$`)."""
    parts = raw.name.parts
    if len(parts) > 1 and parts[0].isalpha() and parts[0].islower():
        entity, key = parts[0], ".".join(parts[1:])
        if entity not in _ENTITIES:
            raise invalid(f"Invalid entity type: {entity!r}. Expected one of {list(_ENTITIES)}.")
        return entity, ALIASES.get(key, key) if entity == "attributes" else key
    key = ".".join(parts)
    return "attributes", ALIASES.get(key, key)


def _value(raw: RawComparison, numeric: bool):
    value = raw.value
    if isinstance(value, ListLiteral):
        return tuple(item.value for item in value.items)
    if numeric:
        try:
            return float(value.value)
        except (TypeError, ValueError):
            raise invalid(f"Invalid filter string: {value.text!r} is not a number.") from None
    return str(value.value)


def _dataset_match(datasets: list[dict] | None) -> list[ColumnElement]:
    """[] for no datasets clause, else one OR of the (name[, digest]) pairs."""
    if not datasets:
        return []
    t = logged_model_metrics
    return [or_(*(
        and_(t.c.dataset_name == d["dataset_name"],
             *([t.c.dataset_digest == d["dataset_digest"]] if "dataset_digest" in d else []))
        for d in datasets
    ))]


def _has_metric(*conditions) -> ColumnElement:
    t = logged_model_metrics
    return exists(select(t.c.model_id).where(t.c.model_id == logged_models.c.model_id, *conditions))


def _condition(raw: RawComparison, dialect: str, datasets: list[dict] | None = None) -> ColumnElement:
    entity, key = _entity_and_key(raw)
    op = raw.comparator
    numeric = entity == "metrics" or (entity == "attributes" and key in NUMERIC_ATTRIBUTES)
    allowed = NUMERIC_COMPARATORS if numeric else STRING_ATTRIBUTE_COMPARATORS
    if op not in allowed:
        expected = tuple(c for c in _MESSAGE_ORDER if c in allowed)
        raise invalid(f"Invalid comparison operator for {entity}.{key}: {op!r}. Expected one of {expected}.")
    value = _value(raw, numeric)
    if entity == "attributes":
        if key not in NUMERIC_ATTRIBUTES | STRING_ATTRIBUTES:
            raise invalid(f"Invalid attribute name: {key}")
        column = logged_models.c[key]
        if numeric:
            return compare_value(column, op, value)
        if key == "status":
            values = value if isinstance(value, tuple) else (value,)
            numbers = tuple(_STATUS_BY_NAME.get(v.upper(), -1) for v in values)
            return compare_value(column, op, numbers[0]) if op in (Comparator.EQ, Comparator.NE) else (
                column.in_(numbers) if op is Comparator.IN else column.not_in(numbers)
            )
        return compare_text(column, op, value, dialect)
    if entity == "metrics":
        t = logged_model_metrics
        return _has_metric(t.c.metric_name == key, compare_value(t.c.metric_value, op, value),
                           *_dataset_match(datasets))
    table = logged_model_params if entity == "params" else logged_model_tags
    return exists(
        select(table.c.model_id).where(
            table.c.model_id == logged_models.c.model_id,
            table.c.key == key,
            compare_text(table.c.value, op, value, dialect),
        )
    )


def _ordering(order_by: list[dict]) -> list:
    clauses, has_created, has_id = [], False, False
    for entry in order_by:
        field = entry.get("field_name")
        if not isinstance(field, str) or not field:
            raise invalid("Invalid order by field name: None")
        ascending = entry.get("ascending", True) is not False
        if "." in field:
            entity, metric_name = field.split(".", 1)
            if entity != "metrics":
                raise invalid(f"Invalid order by field name: {field}. Only metrics are supported.")
            latest = _latest_metric(metric_name, entry.get("dataset_name"), entry.get("dataset_digest"))
            clauses += [case((latest.is_(None), 1), else_=0), latest.asc() if ascending else latest.desc()]
            continue
        name = ALIASES.get(field, field)
        if name not in logged_models.c or name in ("project_id", "lifecycle_stage"):
            raise invalid(f"Invalid order by field name: {field}")
        has_created |= name == "creation_timestamp_ms"
        has_id |= name == "model_id"
        column = logged_models.c[name]
        clauses += [case((column.is_(None), 1), else_=0), column.asc() if ascending else column.desc()]
    if not has_created:
        clauses.append(logged_models.c.creation_timestamp_ms.desc())
    if not has_id:
        clauses.append(logged_models.c.model_id.asc())
    return clauses


def _latest_metric(name: str, dataset_name, dataset_digest):
    """The model's latest value of the metric (newest timestamp, then step, then run id)."""
    t = logged_model_metrics
    conditions = [t.c.model_id == logged_models.c.model_id, t.c.metric_name == name]
    if dataset_name:
        conditions.append(t.c.dataset_name == dataset_name)
    if dataset_digest:
        conditions.append(t.c.dataset_digest == dataset_digest)
    return (
        select(t.c.metric_value)
        .where(*conditions)
        .order_by(t.c.metric_timestamp_ms.desc(), t.c.metric_step.desc(), t.c.run_id.asc())
        .limit(1)
        .scalar_subquery()
    )


def encode_token(offset: int, experiment_ids, filter_string, order_by) -> str:
    payload = {"offset": offset, "experiment_ids": experiment_ids, "filter_string": filter_string,
               "order_by": order_by}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str, experiment_ids, filter_string, order_by) -> int:
    try:
        payload = json.loads(base64.b64decode(token))
        offset = int(payload["offset"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page token: {token}") from None
    if (payload.get("experiment_ids"), payload.get("filter_string"), payload.get("order_by")) != (
        experiment_ids, filter_string, order_by
    ):
        raise invalid("The experiment IDs, filter string, or order by in the page token do not match the request.")
    return offset


def search(
    conn: Connection,
    project_id: int,
    experiment_ids: list[int],
    filter_string: str | None,
    order_by: list[dict] | None,
    max_results: int | None,
    page_token: str | None,
    datasets: list[dict] | None = None,
) -> tuple[list, str | None]:
    if datasets and not all(d.get("dataset_name") for d in datasets):
        raise invalid("`dataset_name` in the `datasets` clause must be specified.")
    order_by = order_by or []
    ids_key = [str(e) for e in experiment_ids]
    offset = decode_token(page_token, ids_key, filter_string, order_by) if page_token else 0
    max_results = max_results or DEFAULT_MAX_RESULTS
    raws = parse_raw_filter(filter_string)
    conditions = [_condition(raw, conn.dialect.name, datasets) for raw in raws]
    if datasets and not any(_entity_and_key(raw)[0] == "metrics" for raw in raws):
        conditions.append(_has_metric(*_dataset_match(datasets)))
    query = (
        select(logged_models)
        .where(
            logged_models.c.project_id == project_id,
            logged_models.c.experiment_id.in_(experiment_ids),
            logged_models.c.lifecycle_stage != exps.DELETED,
            and_(*conditions),
        )
        .order_by(*_ordering(order_by))
        .offset(offset)
        .limit(max_results + 1)
    )
    rows = conn.execute(query).all()
    token = None
    if len(rows) > max_results:
        token = encode_token(offset + max_results, ids_key, filter_string, order_by)
    return rows[:max_results], token
