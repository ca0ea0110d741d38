"""The store's own floor for one log-batch: 1,000 metric rows inserted and committed (durably)
straight through the driver, nothing else — no HTTP, no JSON, no validation, no latest_metrics.

Any server that commits a batch before answering spends at least this per sequential log-batch
call on top of what the stock client itself needs (the ceiling server's time per call), so
ceiling / (ceiling + floor) bounds the share of the ceiling a server can reach (compare_mlflow.py).

The rows go into mltracker's own `metrics` table, the fastest way each database takes them:
SQLite with the server's pragmas (WAL, synchronous=FULL) and one executemany in BEGIN IMMEDIATE;
PostgreSQL as one `INSERT … SELECT unnest(arrays)` with binary arrays encoded before the clock
starts, then COMMIT. The rows belong to no run and are deleted afterwards (untimed).
"""
from __future__ import annotations

import sqlite3
import time
import uuid

from mltracker.service.db import pg_arrays  # registers its arrays with psycopg before any connection
from workloads import BATCH_KEYS, BATCH_STEPS, T0

COLUMNS = ("run_uuid", "key", "timestamp", "step", "value", "is_nan")
POINTS_PER_CALL = BATCH_KEYS * BATCH_STEPS


def batch_rows(run_id: str, batch: int) -> list[tuple]:
    """The rows of the log-batch workload's batch number `batch`."""
    return [(run_id, f"k{k}", T0 + batch, batch * BATCH_STEPS + s, (batch * BATCH_STEPS + s) * 1e-3 + k, False)
            for k in range(BATCH_KEYS) for s in range(BATCH_STEPS)]


def insert_latencies(kind: str, target: str, count: int = 15) -> list[float]:
    """Seconds per 1,000-row insert + commit, `count` times (after one untimed warm-up)."""
    run_id = "floor" + uuid.uuid4().hex[:27]
    insert, prepare = (_sqlite_insert, list) if kind == "sqlite" else (_postgres_insert, _postgres_arrays)
    conn = _connect(kind, target)
    try:
        latencies = []
        for batch in range(count + 1):
            payload = prepare(batch_rows(run_id, batch))  # encoded before the clock: the store's time only
            started = time.perf_counter()
            insert(conn, payload)
            if batch:
                latencies.append(time.perf_counter() - started)
        _delete(kind, conn, run_id)
        return latencies
    finally:
        conn.close()


def _connect(kind: str, target: str):
    if kind == "sqlite":
        conn = sqlite3.connect(target, timeout=60, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn
    import psycopg

    return psycopg.connect(target)


def _sqlite_insert(conn, rows: list[tuple]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO metrics ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")


_PG_INSERT = (
    f"INSERT INTO metrics ({', '.join(COLUMNS)}) SELECT * FROM unnest("
    "%b::varchar[], %b::varchar[], %b::bigint[], %b::bigint[], %b::float8[], %b::boolean[])"
)


_PG_KINDS = ("varchar", "varchar", "int8", "int8", "float8", "bool")


def _postgres_arrays(rows: list[tuple]) -> list:
    """One binary array per column, as the server sends them."""
    return [pg_arrays.encode(kind, column) for kind, column in zip(_PG_KINDS, zip(*rows))]


def _postgres_insert(conn, arrays: list) -> None:
    conn.execute(_PG_INSERT, arrays)
    conn.commit()


def _delete(kind: str, conn, run_id: str) -> None:
    mark = "?" if kind == "sqlite" else "%s"
    conn.execute(f"DELETE FROM metrics WHERE run_uuid = {mark}", (run_id,))
    if kind != "sqlite":
        conn.commit()
