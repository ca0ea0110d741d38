"""executemany of a statement compiled once, with plain tuples: the hot path of log-batch.

SQLAlchemy's own executemany builds and type-processes a parameter dict per row, which costs
more than SQLite's insert itself for 1,000-metric batches.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from mltracker.service.db import pg_arrays


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


def unnest_rows(table, columns: tuple[str, ...]):
    """PostgreSQL: `SELECT unnest(:c1::type[]), unnest(:c2::type[]), …` — a whole batch as one
    statement with one array per column, one round trip, parsed once."""
    return select(*[
        func.unnest(bindparam(name, type_=ARRAY(table.c[name].type))).label(name) for name in columns
    ])


def execute_as_arrays(conn: Connection, stmt, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Run an `unnest_rows` INSERT statement with one array per column, encoded by
    pg_arrays (SQLAlchemy's ARRAY type would process every element first, psycopg's list dumper
    pack them one by one); a column pg_arrays cannot encode goes to psycopg as a list."""
    if rows:
        arrays = {name: pg_arrays.encode_column(stmt.table.c[name].type, values)
                  for name, values in zip(columns, zip(*rows))}
        conn.exec_driver_sql(_binary_params(stmt, conn.dialect, columns), arrays)



@lru_cache(maxsize=16)
def _binary_params(stmt, dialect, columns: tuple[str, ...]) -> str:
    """psycopg's binary array format: no per-element quoting and escaping as in the text format."""
    sql, _ = _compiled(stmt, dialect, columns)
    for name in columns:
        sql = sql.replace(f"%({name})s", f"%({name})b")
    return sql
