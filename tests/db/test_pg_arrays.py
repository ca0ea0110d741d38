"""Arrays encoded by pg_arrays read back in PostgreSQL as the values they were made of, for every
kind, edge values included; log-batch rows stored through them read back exactly."""
from __future__ import annotations

import math
import sys

import psycopg
import pytest
from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text

from mltracker.service.db import pg_arrays

CASES = [
    ("int8", "bigint", [0, 1, -1, 2**63 - 1, -(2**63), 1_700_000_000_000]),
    ("int4", "integer", [0, 2**31 - 1, -(2**31)]),
    ("float8", "float8", [0.0, -0.0, 0.1 + 0.2, 5e-324, sys.float_info.max, -sys.float_info.max, math.inf, 3]),
    ("bool", "boolean", [True, False, False, True]),
    ("varchar", "varchar", ["k0", "k0", "", "ünïcode ✓ 😀", "with space", "a" * 250, "k0"]),
    ("text", "text", ["x" * 10_000, "{,\"quoted\"}", "NULL"]),
    ("varchar", "varchar", []),
]


@pytest.fixture(scope="module")
def pg(pg_url):
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        yield conn


@pytest.mark.parametrize(("kind", "sql_type", "values"), CASES, ids=[f"{c[0]}-{len(c[2])}" for c in CASES])
def test_array_reads_back_as_its_values(pg, kind, sql_type, values):
    encoded = pg_arrays.encode(kind, values)
    back = pg.execute(f"SELECT %b::{sql_type}[]", [encoded]).fetchone()[0]
    assert back == values
    assert [type(v) for v in back] == [type(v) for v in values] or kind == "float8"


def test_nan_reads_back_as_nan(pg):
    back = pg.execute("SELECT %b::float8[]", [pg_arrays.encode("float8", [math.nan, 1.0])]).fetchone()[0]
    assert math.isnan(back[0]) and back[1] == 1.0


@pytest.mark.parametrize(("column_type", "kind"), [
    (BigInteger(), "int8"), (Integer(), "int4"), (Float(53), "float8"), (Boolean(), "bool"),
    (String(32), "varchar"), (Text(), "text"),
])
def test_column_types_map_to_their_kind(column_type, kind):
    assert pg_arrays.kind_of(column_type) == kind
