"""`column IN (ids)` for lists of ids of any length.

On PostgreSQL it is `column = ANY(:ids)` with the list as one array parameter: the query text is
the same whatever the number of ids, so psycopg parses it once and prepares it after a few uses,
where IN (...) sends and parses a new text with one placeholder per id every time. The array goes
in PostgreSQL's binary format (pg_arrays): psycopg's list dumper quotes each id in Python (a regex
per element: ~1 ms of CPU for the six queries loading a page of 100 runs)."""
from __future__ import annotations

from sqlalchemy import Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType

from mltracker.service.db import pg_arrays


def among(conn: Connection, column, ids: list):
    if conn.dialect.name == "postgresql":
        encoded = pg_arrays.encode_column(column.type, ids)
        if isinstance(encoded, pg_arrays.EncodedArray):
            # NullType: SQLAlchemy passes the encoded bytes on untouched (ARRAY would iterate them).
            return column == any_(bindparam(None, encoded, type_=NullType()))
        return column == any_(bindparam(None, encoded, type_=ARRAY(column.type)))
    return column.in_(ids)
