"""String comparisons with the same results on SQLite and PostgreSQL.

LIKE is case-sensitive, ILIKE case-insensitive, and neither has an escape character (`%` and `_`
are always wildcards, a backslash is a plain character), as in MLflow's reference semantics.

SQLite's built-in LIKE ignores ASCII case. MLflow flips that with PRAGMA case_sensitive_like,
which SQLite deprecates and which changes the connection for everyone using it; instead we keep
the built-in LIKE as a cheap (index-friendly, superset) pre-filter and confirm with a
case-sensitive Python function registered on the connection (see register_sqlite_functions).
PostgreSQL's LIKE defaults to backslash escapes, so it gets an explicit empty ESCAPE.
"""
from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import Connection, func
from sqlalchemy.sql.elements import ColumnElement

SQLITE_LIKE_FUNCTION = "mltracker_like"


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


def _like(column, pattern: str, dialect: str) -> ColumnElement:
    if dialect == "sqlite":
        return column.like(pattern) & (getattr(func, SQLITE_LIKE_FUNCTION)(column, pattern) == 1)
    if dialect == "postgresql":
        return column.like(pattern, escape="")
    return column.like(pattern)


def _ilike(column, pattern: str, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return column.ilike(pattern, escape="")
    return column.ilike(pattern)


def register_sqlite_functions(conn: Connection) -> None:
    """Make mltracker_like available on this connection (cheap; safe to repeat)."""
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.driver_connection
    raw.create_function(SQLITE_LIKE_FUNCTION, 2, like_matches, deterministic=True)


def like_matches(value: str | None, pattern: str | None) -> int | None:
    if value is None or pattern is None:
        return None
    return int(_like_regex(pattern).fullmatch(value) is not None)


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern:
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)
