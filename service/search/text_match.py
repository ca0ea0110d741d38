"""String comparisons with the same results on SQLite and PostgreSQL.

LIKE is case-sensitive, ILIKE case-insensitive, and neither has an escape character (`%` and `_`
are always wildcards, a backslash is a plain character), as in MLflow's reference semantics.

SQLite's LIKE ignores ASCII case, so a LIKE runs there as SQLite's own case-sensitive GLOB with
the pattern translated (`%` -> `*`, `_` -> `?`, GLOB's own metacharacters bracketed). Both engines'
matchers stop a `%` search as soon as the rest of the pattern cannot match anywhere further right,
so matching is polynomial in the value's length; nothing here backtracks in Python.
PostgreSQL's LIKE defaults to backslash escapes, so it gets an explicit empty ESCAPE.
"""
from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.search.syntax import LIST_COMPARATORS, Comparator

_GLOB_TRANSLATION = str.maketrans({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"})


def compare_text(column, comparator: Comparator, value, dialect: str) -> ColumnElement:
    """String comparators (=, !=, IN, NOT IN, LIKE, ILIKE) with MLflow's case rules."""
    if comparator is Comparator.LIKE:
        return _like(column, value, dialect)
    if comparator is Comparator.ILIKE:
        return _ilike(column, value, dialect)
    if comparator in _COLUMN_OPERATORS and comparator not in _ORDERING:
        return _COLUMN_OPERATORS[comparator](column, value)
    raise ValueError(f"not a string comparator: {comparator}")


def compare_value(column, comparator: Comparator, value) -> ColumnElement:
    """Numeric comparison operators."""
    if comparator in LIST_COMPARATORS:
        raise ValueError(f"not a numeric comparator: {comparator}")
    return _COLUMN_OPERATORS[comparator](column, value)


_COLUMN_OPERATORS = {
    Comparator.EQ: lambda column, value: column == value,
    Comparator.NE: lambda column, value: column != value,
    Comparator.GT: lambda column, value: column > value,
    Comparator.GE: lambda column, value: column >= value,
    Comparator.LT: lambda column, value: column < value,
    Comparator.LE: lambda column, value: column <= value,
    Comparator.IN: lambda column, value: column.in_(value),
    Comparator.NOT_IN: lambda column, value: column.not_in(value),
}
_ORDERING = frozenset({Comparator.GT, Comparator.GE, Comparator.LT, Comparator.LE})


def like_to_glob(pattern: str) -> str:
    """The GLOB pattern matching exactly what the (escape-less, case-sensitive) LIKE pattern does."""
    return pattern.translate(_GLOB_TRANSLATION)


def _like(column, pattern: str, dialect: str) -> ColumnElement:
    if dialect == "sqlite":
        return column.op("GLOB", is_comparison=True)(like_to_glob(pattern))
    if dialect == "postgresql":
        return column.like(pattern, escape="")
    return column.like(pattern)


def _ilike(column, pattern: str, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return column.ilike(pattern, escape="")
    return column.ilike(pattern)
