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

_GLOB_TRANSLATION = str.maketrans({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"})


def compare_text(column, comparator: str, value, dialect: str) -> ColumnElement:
    if comparator == "=":
        return column == value
    if comparator == "!=":
        return column != value
    if comparator == "IN":
        return column.in_(value)
    if comparator == "NOT IN":
        return column.not_in(value)
    if comparator == "LIKE":
        return _like(column, value, dialect)
    if comparator == "ILIKE":
        return _ilike(column, value, dialect)
    raise ValueError(f"not a string comparator: {comparator}")


def compare_value(column, comparator: str, value) -> ColumnElement:
    """Numeric comparison operators."""
    return {
        "=": column.__eq__,
        "!=": column.__ne__,
        ">": column.__gt__,
        ">=": column.__ge__,
        "<": column.__lt__,
        "<=": column.__le__,
    }[comparator](value)


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
