"""`column IN (ids)` for lists of ids of any length.

On PostgreSQL it is `column = ANY(:ids)` with the list as one array parameter: the query text is
the same whatever the number of ids, so psycopg parses it once and prepares it after a few uses,
where IN (...) sends and parses a new text with one placeholder per id every time."""
from __future__ import annotations

from sqlalchemy import Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(conn: Connection, column, ids: list):
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
    return column.in_(ids)
