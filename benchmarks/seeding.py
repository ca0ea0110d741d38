"""Fast seeding of large data sets straight into a server's database, the same way for both servers.

A template run is created through the stock MLflow client against the server, so every row a server
writes for a run exists in that server's own schema. The seeder then copies the template's rows in
SQL (one bulk insert per table: COPY on PostgreSQL, executemany on SQLite), giving each copy a new
run id and its own metric and param values. mlflow's schema and mltracker's share the table and
column names this touches (runs, params, tags, metrics, latest_metrics; run_uuid, key, value, step,
timestamp), so one routine seeds both.
"""
from __future__ import annotations

import sqlite3
import uuid
from contextlib import contextmanager
from typing import Iterable

RUN_TABLES = ("runs", "params", "tags", "metrics", "latest_metrics")
T0 = 1_700_000_000_000


def metric_value(run_index: int, key_index: int) -> float:
    """Deterministic, spread over [0, 1), independent across keys; the same on every server."""
    h = (run_index * 0x9E3779B1 + key_index * 0x85EBCA77) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h ^= h >> 12
    h = (h * 0x297A2D39) & 0xFFFFFFFF
    h ^= h >> 15
    return h / 4294967296.0


def param_value(run_index: int, key_index: int) -> str:
    return f"v{run_index % 10}" if key_index == 0 else f"p{key_index}-{run_index % 97}"


def _key_index(key: str) -> int:
    digits = "".join(ch for ch in key if ch.isdigit())
    return int(digits) if digits else 0


class Db:
    """A DBAPI connection to either kind of store, with a bulk insert."""

    def __init__(self, kind: str, target: str):
        self.kind = kind
        if kind == "sqlite":
            self.conn = sqlite3.connect(target, timeout=60)
        else:
            import psycopg

            self.conn = psycopg.connect(target)

    def rows(self, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), params)
        cols = [d[0] for d in cur.description]
        return cols, cur.fetchall()

    def execute(self, sql: str, params: tuple = ()) -> None:
        self.conn.cursor().execute(self._sql(sql), params)

    def _sql(self, sql: str) -> str:
        return sql if self.kind == "sqlite" else sql.replace("?", "%s")

    def insert_many(self, table: str, cols: list[str], rows: Iterable[tuple]) -> int:
        count = 0
        if self.kind == "sqlite":
            marks = ",".join("?" * len(cols))
            cur = self.conn.cursor()
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 20000:
                    cur.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})", batch)
                    count += len(batch)
                    batch = []
            if batch:
                cur.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})", batch)
                count += len(batch)
            return count
        quoted = ",".join(f'"{c}"' for c in cols)
        with self.conn.cursor().copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


@contextmanager
def connect(kind: str, target: str):
    db = Db(kind, target)
    try:
        yield db
        db.commit()
    finally:
        db.close()


def clone_runs(kind: str, target: str, template_run_id: str, count: int, start_index: int = 1) -> int:
    """Add `count` copies of the template run, each with its own id, metric values and params."""
    with connect(kind, target) as db:
        templates = {t: db.rows(f"SELECT * FROM {t} WHERE run_uuid = ?", (template_run_id,)) for t in RUN_TABLES}
        new_ids = [uuid.uuid4().hex for _ in range(count)]
        for table, (cols, rows) in templates.items():
            if not rows:
                continue
            db.insert_many(table, cols, _copies(table, cols, rows, template_run_id, new_ids, start_index))
        if kind == "postgresql":
            db.commit()
            db.conn.autocommit = True
            for table in RUN_TABLES:
                db.execute(f"ANALYZE {table}")
    return count


def _copies(table, cols, rows, template_id, new_ids, start_index):
    run_col = cols.index("run_uuid")
    key_col = cols.index("key") if "key" in cols else None
    value_col = cols.index("value") if "value" in cols else None
    start_col = cols.index("start_time") if "start_time" in cols else None
    text_cols = [i for i, c in enumerate(cols) if c in ("artifact_uri", "name")]
    for n, run_id in enumerate(new_ids):
        index = start_index + n
        for row in rows:
            new = list(row)
            new[run_col] = run_id
            if table == "runs":
                for i in text_cols:
                    if isinstance(new[i], str):
                        new[i] = new[i].replace(template_id, run_id).replace("template", f"run-{index}")
                if start_col is not None:
                    new[start_col] = T0 + index
            elif table in ("metrics", "latest_metrics"):
                new[value_col] = metric_value(index, _key_index(row[key_col]))
            elif table == "params":
                new[value_col] = param_value(index, _key_index(row[key_col]))
            elif table == "tags" and isinstance(new[value_col], str):
                new[value_col] = new[value_col].replace("template", f"run-{index}")
            yield tuple(new)


def add_history(kind: str, target: str, run_id: str, key: str, steps: int) -> None:
    """Extend a metric that has its step 0 logged to steps 0 … steps-1."""
    with connect(kind, target) as db:
        cols, rows = db.rows("SELECT * FROM metrics WHERE run_uuid = ? AND key = ?", (run_id, key))
        if len(rows) != 1:
            raise RuntimeError(f"expected the one seed point of {key!r}, found {len(rows)}")
        template = rows[0]
        step_col, ts_col, value_col = cols.index("step"), cols.index("timestamp"), cols.index("value")

        def points():
            for step in range(1, steps):
                row = list(template)
                row[step_col], row[ts_col], row[value_col] = step, T0 + step, (step % 1000) / 1000.0
                yield tuple(row)

        db.insert_many("metrics", cols, points())
        last = steps - 1
        db.execute(
            "UPDATE latest_metrics SET step = ?, timestamp = ?, value = ? WHERE run_uuid = ? AND key = ?",
            (last, T0 + last, (last % 1000) / 1000.0, run_id, key),
        )
        if kind == "postgresql":
            db.commit()
            db.conn.autocommit = True
            db.execute("ANALYZE metrics")
