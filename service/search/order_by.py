"""order_by entries ("metrics.acc DESC", "tags.`x y`", "start_time ASC") to ORDER BY clauses.

Runs (as MLflow's SQL store): each key sorts rows lacking it last whatever the direction, metric
NaNs sort after real values and before missing metrics, and the order always ends with
start_time DESC (unless already ordered on) and run_uuid for stable paging.
Experiments: default "creation_time DESC, experiment_id ASC"; experiment_id DESC breaks ties.
Text sorts byte-wise on PostgreSQL (COLLATE "C") to match SQLite.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from mltracker.service.db.schema import experiments, latest_metrics, params, runs, tags
from mltracker.service.errors import invalid
from mltracker.service.search.experiment_vocabulary import ExperimentVocabulary
from mltracker.service.search.filter_compiler import NUMERIC_RUN_ATTRIBUTES, RUN_ATTRIBUTE_COLUMNS
from mltracker.service.search.filter_parser import SyntaxFault, TokenCursor
from mltracker.service.search.lexer import Kind, LexError, tokenize
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.search.syntax import Entity, OrderKey

DEFAULT_EXPERIMENT_ORDER = ["creation_time DESC", "experiment_id ASC"]


@dataclass(frozen=True)
class Ordering:
    source: FromClause  # the table to select from, outer-joined to what the sort needs
    clauses: tuple[ColumnElement, ...]
    # When the first key is a metric: its joined latest_metrics row, so a search can read the
    # three parts of the order (values, NaNs, missing) one after another, each in index order.
    leading_metric: FromClause | None = None


def parse_order_entry(entry: str):
    """`<name> [ASC|DESC]` → (the parsed name, ascending), with MLflow's errors."""
    unparsable = invalid(f"Invalid order_by clause '{entry}'. Could not be parsed.")
    try:
        cursor = TokenCursor(tokenize(entry))
        name = cursor.name(entry)
    except (LexError, SyntaxFault):
        raise unparsable from None
    ascending = True
    if cursor.peek.kind is Kind.WORD:
        direction = cursor.advance()
        if direction.text.lower() not in ("asc", "desc"):
            raise invalid(f"Invalid ordering key in order_by clause '{entry}'.")
        ascending = direction.text.lower() == "asc"
    if cursor.peek.kind is not Kind.EOF:
        raise unparsable
    return name, ascending


def parse_order_by(entry: str, vocabulary) -> OrderKey:
    name, ascending = parse_order_entry(entry)
    return vocabulary.resolve_order(name, ascending)


def parse_run_order_by(order_by: list[str] | None) -> list[OrderKey]:
    """search_runs' order_by strings as order keys, with MLflow's errors (duplicates included)."""
    keys: list[OrderKey] = []
    seen: set[tuple[Entity, str]] = set()
    for entry in order_by or []:
        key = parse_order_by(entry, RunVocabulary())
        if (key.entity, key.key) in seen:
            raise invalid(f"`order_by` contains duplicate fields: {order_by}")
        seen.add((key.entity, key.key))
        keys.append(key)
    return keys


def run_ordering(order: Sequence[OrderKey], dialect: str) -> Ordering:
    source: FromClause = runs
    clauses: list[ColumnElement] = []
    leading_metric = None
    for position, key in enumerate(order):
        if key.entity is Entity.ATTRIBUTE:
            column = RUN_ATTRIBUTE_COLUMNS[key.key]
            value = _sortable(column, key.key not in NUMERIC_RUN_ATTRIBUTES, dialect)
            rank = case((column.is_(None), 1), else_=0)
        else:
            table = {Entity.METRIC: latest_metrics, Entity.PARAM: params, Entity.TAG: tags}[key.entity]
            joined = table.alias(f"order_{position}")
            source = source.outerjoin(
                joined, (joined.c.run_uuid == runs.c.run_uuid) & (joined.c.key == key.key)
            )
            value = _sortable(joined.c.value, key.entity is not Entity.METRIC, dialect)
            if key.entity is Entity.METRIC:
                rank = case((joined.c.is_nan == true(), 1), (joined.c.value.is_(None), 2), else_=0)
                if position == 0:
                    leading_metric = joined
            else:
                rank = case((joined.c.value.is_(None), 1), else_=0)
        clauses += [rank, value if key.ascending else value.desc()]
    if not any(key.entity is Entity.ATTRIBUTE and key.key == "start_time" for key in order):
        clauses.append(runs.c.start_time.desc())
    clauses.append(runs.c.run_uuid)
    return Ordering(source, tuple(clauses), leading_metric)


def experiment_ordering(order_by: list[str] | None, dialect: str) -> Ordering:
    clauses: list[ColumnElement] = []
    keys = [parse_order_by(entry, ExperimentVocabulary()) for entry in order_by or DEFAULT_EXPERIMENT_ORDER]
    for key in keys:
        value = _sortable(experiments.c[key.key], key.key == "name", dialect)
        clauses.append(value if key.ascending else value.desc())
    if not any(key.key == "experiment_id" for key in keys):
        clauses.append(experiments.c.experiment_id.desc())
    return Ordering(experiments, tuple(clauses))


def _sortable(column, is_text: bool, dialect: str):
    if is_text and dialect == "postgresql":
        return column.collate("C")
    return column
