"""Dialect-neutral INSERT … ON CONFLICT for SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def upsert_rows(conn: Connection, table, rows: list[dict], keys: list[str], updated: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    if not rows:
        return
    stmt = dialect_insert(conn)(table).values(rows)
    if updated:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in updated}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt)


def dialect_insert(conn: Connection):
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
