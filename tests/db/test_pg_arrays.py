"""Arrays encoded by pg_arrays read back in PostgreSQL as the values they were made of, for every
kind, edge values included; log-batch rows stored through them read back exactly."""
from __future__ import annotations

import math
import subprocess
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


def test_id_lists_work_on_a_connection_opened_before_anything_imported_them(pg_url, tmp_path):
    """`mltracker worker` opens its connections before the job handlers import the id lists: the
    arrays' dumpers must be known to psycopg before any connection opens (service/db/engine.py)."""
    script = tmp_path / "first_connection.py"
    script.write_text(
        "import sys\n"
        "from mltracker.service.db.engine import Database\n"
        "from mltracker.service.settings import Settings\n"
        f"db = Database.from_settings(Settings(backend_store_uri={pg_url!r}))\n"
        "with db.engine.connect() as conn:\n"
        "    from sqlalchemy import column, select, String, literal_column\n"
        "    from mltracker.service.db.id_lists import among\n"
        "    ids = column('x', String)\n"
        "    query = select(ids).select_from(select(literal_column(\"'a'\").label('x')).subquery())"
        ".where(among(conn, ids, ['a', 'b']))\n"
        "    print(conn.execute(query).all())\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[('a',)]"
