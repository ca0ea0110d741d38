"""search_registered_models / search_model_versions with MLflow's grammar and messages.

Filters go through the shared search parser (service.search.filter_parser); this module is the
registry's vocabulary (which names, comparators and values are allowed) and its SQL compiler.

    registered models:  name (=, !=, LIKE, ILIKE, IN, NOT IN), tags.<key> (=, !=, LIKE, ILIKE)
    model versions:     name, run_id (also IN / NOT IN), source_path (string comparators),
                        version_number (numeric comparators), tags.<key>
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, not_, select
from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.db.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from mltracker.service.errors import invalid
from mltracker.service.search.filter_parser import parse_raw_filter
from mltracker.service.search.order_by import parse_order_entry
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.search.syntax import (
    LIST_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_ATTRIBUTE_COMPARATORS,
    TEXT_COMPARATORS,
    Comparator,
    Comparison,
    Entity,
    ListLiteral,
    Literal,
    RawComparison,
)
from mltracker.service.search.text_match import compare_text, compare_value
from mltracker.service.search.vocabulary import set_repr, string_list
from mltracker.service.registry.records import versions_query

IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
ENTITY_TYPES = ("attribute", "tag", "tags")

REGISTERED_MODEL_MAX_RESULTS = 1000
REGISTERED_MODEL_DEFAULT_RESULTS = 100
MODEL_VERSION_MAX_RESULTS = 200_000
MODEL_VERSION_DEFAULT_RESULTS = 10_000
DEFAULT_VERSION_ORDER = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]


@dataclass(frozen=True)
class Grammar:
    attributes: frozenset[str]
    numeric: frozenset[str]
    list_keys: frozenset[str]


MODEL_GRAMMAR = Grammar(frozenset({"name"}), frozenset(), frozenset({"name"}))
VERSION_GRAMMAR = Grammar(
    frozenset({"name", "version_number", "run_id", "source_path"}),
    frozenset({"version_number", "creation_timestamp", "last_updated_timestamp"}),
    frozenset({"name", "run_id"}),
)


def _clause(raw: RawComparison, grammar: Grammar) -> Comparison:
    parts = raw.name.parts
    if len(parts) == 1:
        is_tag, key = False, parts[0]
    else:
        entity, key = parts[0], ".".join(parts[1:])
        if entity not in ENTITY_TYPES:
            raise invalid(f"Invalid entity type '{entity}'. Valid entity types are {ENTITY_TYPES}")
        is_tag = entity in ("tag", "tags")
    if not is_tag and key not in grammar.attributes:
        raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are '{set_repr(grammar.attributes)}'")
    comparator, value = raw.comparator, raw.value
    if value is None:  # IS NULL / IS NOT NULL
        raise invalid(f"Invalid comparator for {'tag' if is_tag else 'attribute'}: {comparator}")
    if is_tag:
        if not (isinstance(value, Literal) and value.kind == "string"):
            raise invalid(f"Expected a quoted string value for tag (e.g. 'my-value'). Got value {value.text}")
        if comparator not in TEXT_COMPARATORS:
            raise invalid(f"Invalid comparator for tag: {comparator}")
        return Comparison(Entity.TAG, key, comparator, value.value)
    return Comparison(Entity.ATTRIBUTE, key, comparator, _attribute_value(key, comparator, value, grammar))


def _attribute_value(key: str, comparator: str, value, grammar: Grammar):
    if isinstance(value, ListLiteral):
        if key not in grammar.list_keys:
            raise invalid(
                f"Only {sorted(grammar.list_keys)} attributes support comparison with a list of quoted string values."
            )
        parsed = string_list(value)
    elif value.kind == "string":
        parsed = value.value
    elif value.kind == "number" and grammar.numeric:
        if key not in grammar.numeric:
            raise invalid(
                f"Only the '{set_repr(grammar.numeric)}' attributes support comparison with numeric values."
            )
        parsed = value.value
    else:
        raise invalid(
            "Expected a quoted string value or a list of quoted string values for attributes. "
            f"Got value {value.text}"
        )
    if key in grammar.numeric:
        if comparator not in NUMERIC_COMPARATORS:
            raise invalid(f"Invalid comparator for attribute {key}: {comparator}")
        if isinstance(parsed, float) or isinstance(parsed, tuple):
            raise invalid(f"Invalid value for numeric attribute '{key}': {parsed!r}")
        try:
            return int(parsed)
        except (TypeError, ValueError):
            raise invalid(f"Invalid value for numeric attribute '{key}': {parsed!r}") from None
    if comparator not in STRING_ATTRIBUTE_COMPARATORS or (
            comparator in LIST_COMPARATORS and key not in grammar.list_keys):
        raise invalid(f"Invalid comparator for attribute: {comparator}")
    if isinstance(parsed, tuple) != (comparator in LIST_COMPARATORS):
        raise invalid(f"Invalid comparator for attribute: {comparator}")
    return parsed


def parse_clauses(filter_string: str | None, grammar: Grammar) -> list[Comparison]:
    return [_clause(raw, grammar) for raw in parse_raw_filter(filter_string)]


def _wants_prompts(clauses: list[Comparison]) -> bool:
    for c in clauses:
        if c.entity is Entity.TAG and c.key == IS_PROMPT_TAG:
            value = str(c.value).lower()
            return (c.comparator is Comparator.EQ and value == "true") or (
                c.comparator is Comparator.NE and value == "false")
    return False


def _is_prompt(model_id_column) -> ColumnElement:
    return exists(
        select(registered_model_tags.c.key).where(
            registered_model_tags.c.registered_model_id == model_id_column,
            registered_model_tags.c.key == IS_PROMPT_TAG,
            registered_model_tags.c.value == "true",
        )
    )


def _check_max_results(max_results, limit: int) -> int:
    if not isinstance(max_results, int) or max_results < 1:
        raise invalid(
            f"Invalid value for max_results. It must be a positive integer, but got {max_results}"
        )
    if max_results > limit:
        raise invalid(
            "Invalid value for request parameter max_results. It must be at most "
            f"{limit}, but got value {max_results}"
        )
    return max_results


def _parse_order(entry: str) -> tuple[str, bool]:
    name, ascending = parse_order_entry(entry)
    key = name.parts[-1] if len(name.parts) == 2 and name.parts[0] == "attribute" else ".".join(name.parts)
    return key, ascending


# ---------------------------------------------------------------- registered models

_MODEL_ORDER_COLUMNS = {
    "name": registered_models.c.name,
    "timestamp": registered_models.c.last_updated_time,
    "last_updated_timestamp": registered_models.c.last_updated_time,
}


def _model_ordering(order_by: list[str], dialect: str) -> list:
    clauses, seen = [], set()
    for entry in order_by:
        key, ascending = _parse_order(entry)
        column = _MODEL_ORDER_COLUMNS.get(key)
        if column is None:
            raise invalid(
                f"Invalid order by key '{key}' specified. Valid keys are '{set_repr({'name', 'timestamp'})}'"
            )
        if column.key in seen:
            raise invalid(f"`order_by` contains duplicate fields: {order_by}")
        seen.add(column.key)
        column = _sortable(column, dialect)
        clauses.append(column.asc() if ascending else column.desc())
    if "name" not in seen:
        clauses.append(_sortable(registered_models.c.name, dialect).asc())
    return clauses


def _sortable(column, dialect: str):
    return column.collate("C") if dialect == "postgresql" and column.key in ("name", "source") else column


def _model_condition(c: Comparison, dialect: str) -> ColumnElement:
    if c.entity is not Entity.TAG:
        return compare_text(registered_models.c.name, c.comparator, c.value, dialect)
    return exists(
        select(registered_model_tags.c.key).where(
            registered_model_tags.c.registered_model_id == registered_models.c.id,
            registered_model_tags.c.key == c.key,
            compare_text(registered_model_tags.c.value, c.comparator, c.value, dialect),
        )
    )


def search_registered_models(
    conn: Connection, project_id: int, filter_string, max_results, order_by, page_token
) -> tuple[list, str | None]:
    max_results = _check_max_results(
        REGISTERED_MODEL_DEFAULT_RESULTS if max_results is None else max_results, REGISTERED_MODEL_MAX_RESULTS
    )
    dialect = conn.dialect.name
    clauses = parse_clauses(filter_string, MODEL_GRAMMAR)
    ordering = _model_ordering(order_by or [], dialect)
    offset = decode_offset(page_token)
    conditions = [_model_condition(c, dialect) for c in clauses if not (c.entity is Entity.TAG and c.key == IS_PROMPT_TAG)]
    if not _wants_prompts(clauses):
        conditions.append(not_(_is_prompt(registered_models.c.id)))
    elif prompt_clauses := [c for c in clauses if c.entity is Entity.TAG and c.key == IS_PROMPT_TAG]:
        conditions += [_model_condition(c, dialect) for c in prompt_clauses]
    rows = conn.execute(
        select(registered_models)
        .where(registered_models.c.project_id == project_id, and_(*conditions))
        .order_by(*ordering).offset(offset).limit(max_results + 1)
    ).all()
    token = encode_offset(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token


# ---------------------------------------------------------------- model versions

_VERSION_COLUMNS = {
    "name": registered_models.c.name,
    "version_number": model_versions.c.version,
    "run_id": model_versions.c.run_id,
    "source_path": model_versions.c.source,
    "creation_timestamp": model_versions.c.creation_time,
    "last_updated_timestamp": model_versions.c.last_updated_time,
}
_VERSION_ORDER_KEYS = frozenset({"name", "version_number", "creation_timestamp", "last_updated_timestamp"})


def _version_ordering(order_by: list[str], dialect: str) -> list:
    clauses, seen = [], set()
    for entry in order_by:
        key, ascending = _parse_order(entry)
        if key not in _VERSION_ORDER_KEYS:
            raise invalid(f"Invalid order by key '{key}' specified. Valid keys are {set_repr(_VERSION_ORDER_KEYS)}")
        if key in seen:
            raise invalid(f"`order_by` contains duplicate fields: {order_by}")
        seen.add(key)
        column = _sortable(_VERSION_COLUMNS[key], dialect)
        clauses.append(column.asc() if ascending else column.desc())
    if "name" not in seen:
        clauses.append(_sortable(registered_models.c.name, dialect).asc())
    if "version_number" not in seen:
        clauses.append(model_versions.c.version.desc())
    return clauses


def _version_condition(c: Comparison, dialect: str) -> ColumnElement:
    if c.entity is Entity.TAG:
        return exists(
            select(model_version_tags.c.key).where(
                model_version_tags.c.registered_model_id == model_versions.c.registered_model_id,
                model_version_tags.c.version == model_versions.c.version,
                model_version_tags.c.key == c.key,
                compare_text(model_version_tags.c.value, c.comparator, c.value, dialect),
            )
        )
    column = _VERSION_COLUMNS[c.key]
    if c.key == "version_number":
        return compare_value(column, c.comparator, c.value)
    return compare_text(column, c.comparator, c.value, dialect)


def search_model_versions(
    conn: Connection, project_id: int, filter_string, max_results, order_by, page_token
) -> tuple[list, str | None]:
    max_results = _check_max_results(
        MODEL_VERSION_DEFAULT_RESULTS if max_results is None else max_results, MODEL_VERSION_MAX_RESULTS
    )
    dialect = conn.dialect.name
    clauses = parse_clauses(filter_string, VERSION_GRAMMAR)
    ordering = _version_ordering(order_by or DEFAULT_VERSION_ORDER, dialect)
    offset = decode_offset(page_token)
    wants_prompts = _wants_prompts(clauses)
    conditions = [
        _version_condition(c, dialect) for c in clauses
        if wants_prompts or not (c.entity is Entity.TAG and c.key == IS_PROMPT_TAG)
    ]
    if not wants_prompts:
        conditions.append(not_(_is_prompt(registered_models.c.id)))
    rows = conn.execute(
        versions_query()
        .where(registered_models.c.project_id == project_id, and_(*conditions))
        .order_by(*ordering).offset(offset).limit(max_results + 1)
    ).all()
    token = encode_offset(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token
