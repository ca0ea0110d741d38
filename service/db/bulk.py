"""executemany of a statement compiled once, with plain tuples: the hot path of log-batch.

SQLAlchemy's own executemany builds and type-processes a parameter dict per row, which costs
more than SQLite's insert itself for 1,000-metric batches.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection


@lru_cache(maxsize=64)
def _compiled(stmt, dialect, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None]:
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    order = tuple(compiled.positiontup) if compiled.positional else None
    return str(compiled), order


def executemany(conn: Connection, stmt, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Run stmt for each row; rows are tuples in `columns` order."""
    if not rows:
        return
    sql, order = _compiled(stmt, conn.dialect, columns)
    if order is None:
        conn.exec_driver_sql(sql, [dict(zip(columns, row)) for row in rows])
        return
    if order != columns:
        index = [columns.index(name) for name in order]
        rows = [tuple(row[i] for i in index) for row in rows]
    conn.exec_driver_sql(sql, rows)
