"""Worst-case LIKE / ILIKE filters over 10,000 runs whose names and params are long runs of one
letter (the shape that makes a backtracking matcher explode), on SQLite and PostgreSQL.

    python benchmarks/like_worst_case.py [--rows 10000] [--pg postgresql+psycopg://postgres@127.0.0.1/db]
"""
from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import insert

from mltracker.service.db import schema
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from mltracker.service.search.runs import search_run_ids

PATTERNS = ["%a%a%a%a%a%b", "%a%a%a%a%a%a%a%a%a%a%b", "%" + "a%" * 40 + "b", "%a_a_a_a_a_a%B", "a%a%a%a%a%a%"]


def seed(db: Database, rows: int) -> int:
    with db.write() as conn:
        exp = conn.execute(insert(schema.experiments).returning(schema.experiments.c.experiment_id), dict(
            project_id=1, name="like", artifact_location="x", lifecycle_stage="active",
            creation_time=1, last_update_time=1)).scalar_one()
        batch = [dict(run_uuid=f"{i:032x}", experiment_id=exp, project_id=1, name="a" * (100 + i % 50) + "B",
                      user_id="u", status="FINISHED", start_time=i, end_time=None,
                      lifecycle_stage="active", artifact_uri="x") for i in range(rows)]
        conn.execute(insert(schema.runs), batch)
        conn.execute(insert(schema.params), [dict(run_uuid=r["run_uuid"], key="p", value=r["name"]) for r in batch])
    return exp


def measure(url: str, rows: int) -> None:
    db = Database(url)
    upgrade(db)
    exp = seed(db, rows)
    with db.read() as conn:
        for pattern in PATTERNS:
            for op in ("LIKE", "ILIKE"):
                for target in ("attributes.run_name", "params.p"):
                    start = time.perf_counter()
                    ids, _ = search_run_ids(conn, experiment_ids=[exp], filter_string=f"{target} {op} '{pattern}'",
                                            max_results=50000)
                    elapsed = time.perf_counter() - start
                    print(f"{db.dialect:10s} {target:20s} {op:5s} {pattern[:28]:28s} {len(ids):6d} rows  "
                          f"{elapsed * 1000:8.1f} ms")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pg", help="an empty PostgreSQL database to fill")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{tmp}/like.db", args.rows)
    if args.pg:
        measure(args.pg, args.rows)


if __name__ == "__main__":
    main()
