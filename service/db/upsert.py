"""Dialect-neutral INSERT … ON CONFLICT for SQLite and PostgreSQL."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def upsert_rows(conn: Connection, table, rows: list[dict], keys: list[str], updated: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike.

    Rows go as executemany parameters of one cached statement: a multi-row VALUES clause would be
    compiled anew for every request (the cost grows with the row count)."""
    if not rows:
        return
    conn.execute(upsert_statement(conn.dialect.name, table, tuple(keys), tuple(updated)), rows)


@lru_cache(maxsize=None)
def upsert_statement(dialect: str, table, keys: tuple[str, ...], updated: tuple[str, ...]):
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    if updated:
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in updated})
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def dialect_insert(conn: Connection):
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
