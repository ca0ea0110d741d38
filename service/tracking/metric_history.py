"""Metric history: every point of one metric, in pages or streamed; sampled history for charts.

Pages are key ranges of the metrics primary key (run, key, timestamp, step, value, is_nan):
the page token carries the last point, so page N costs what page 1 costs (no OFFSET, no sort).
Points go to JSON text straight from the driver's tuples.
"""
from __future__ import annotations

import base64
import json
import math
from typing import Iterator

from sqlalchemy import Connection, func, select, tuple_

from mltracker.service.db.engine import Database
from mltracker.service.db.schema import metrics
from mltracker.service.errors import invalid
from mltracker.service.tracking.serialize import json_double

MAX_RESULTS_PER_RUN = 2500
MAX_HISTORY_BULK_RESULTS = 25000
STREAM_CHUNK = 5000
_ORDER = (metrics.c.timestamp, metrics.c.step, metrics.c.value, metrics.c.is_nan)


def encode_after(point: tuple) -> str:
    timestamp, step, value, is_nan = point
    return base64.b64encode(json.dumps({"after": [timestamp, step, value, bool(is_nan)]}).encode()).decode()


def decode_after(token: str | None) -> tuple | None:
    if not token:
        return None
    try:
        data = json.loads(base64.b64decode(token, validate=True))
        timestamp, step, value, is_nan = data["after"]
        return (int(timestamp), int(step), float(value), bool(is_nan))
    except Exception:
        raise invalid("Invalid page token, could not base64-decode") from None


def _query(run_id: str, key: str, after: tuple | None):
    query = (
        select(metrics.c.timestamp, metrics.c.step, metrics.c.value, metrics.c.is_nan)
        .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
        .order_by(*_ORDER)
    )
    if after is not None:
        query = query.where(tuple_(*_ORDER) > tuple_(*after))
    return query


def _point_json(key_json: str, timestamp: int, step: int, value: float, is_nan: bool) -> str:
    if is_nan:
        text = '"NaN"'
    elif math.isfinite(value):
        text = repr(float(value))
    else:
        text = '"Infinity"' if value > 0 else '"-Infinity"'
    return f'{{"key":{key_json},"value":{text},"timestamp":{timestamp},"step":{step}}}'


def _fetch_tuples(conn: Connection, query) -> list[tuple]:
    """The driver's own row tuples: no Row objects or type processing for 25,000-point pages."""
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def history_page(conn: Connection, run_id: str, key: str, max_results: int, page_token: str | None) -> str:
    """One page as the GetMetricHistory response body."""
    rows = _fetch_tuples(conn, _query(run_id, key, decode_after(page_token)).limit(max_results + 1))
    key_json = json.dumps(key)
    body = '{"metrics":[' + ",".join(_point_json(key_json, *r) for r in rows[:max_results]) + "]"
    if len(rows) > max_results:
        body += f',"next_page_token":"{encode_after(tuple(rows[max_results - 1]))}"'
    return body + "}"


def history_stream(db: Database, run_id: str, key: str) -> Iterator[str]:
    """The whole history as the response body, in chunks, holding STREAM_CHUNK points at most."""
    key_json = json.dumps(key)
    yield '{"metrics":['
    first = True
    with db.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=STREAM_CHUNK).execute(_query(run_id, key, None))
        for partition in result.partitions(STREAM_CHUNK):
            chunk = ",".join(_point_json(key_json, *r) for r in partition)
            yield chunk if first else "," + chunk
            first = False
    yield "]}"


def bulk_history(conn: Connection, run_ids: list[str], key: str, max_results: int) -> list[dict]:
    """One metric's points for several runs, by run id then time, at most max_results in all."""
    if not run_ids:
        return []
    query = (
        select(metrics.c.run_uuid, metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
        .where(metrics.c.key == key, metrics.c.run_uuid.in_(run_ids))
        .order_by(metrics.c.run_uuid, metrics.c.timestamp, metrics.c.step, metrics.c.value)
        .limit(max_results)
    )
    return [
        {"key": key, "value": json_double(value, is_nan), "timestamp": timestamp, "step": step, "run_id": run_id}
        for run_id, step, timestamp, value, is_nan in conn.execute(query)
    ]


def sampled_history(
    conn: Connection, run_id: str, key: str, max_results: int, start_step: int | None, end_step: int | None
) -> list[dict]:
    """At most max_results points of one run's history, sampled as MLflow's SQL store samples them:
    the ordered rows cut into max_results NTILE buckets, the first row of each kept, and the last
    row always present (it replaces the last sample when the sample is already full).

    Only the samples leave the database, however long the history.
    """
    max_results = max(1, max_results)
    filters = [metrics.c.run_uuid == run_id, metrics.c.key == key]
    if start_step is not None and end_step is not None:
        filters += [metrics.c.step >= start_step, metrics.c.step <= end_step]
    point = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
    bucketed = (
        select(*point, func.ntile(max_results).over(order_by=point).label("bucket"))
        .where(*filters)
        .subquery()
    )
    bucket_point = (bucketed.c.step, bucketed.c.timestamp, bucketed.c.value, bucketed.c.is_nan)
    ranked = select(
        *bucket_point, func.row_number().over(partition_by=bucketed.c.bucket, order_by=bucket_point).label("rn")
    ).subquery()
    ranked_point = (ranked.c.step, ranked.c.timestamp, ranked.c.value, ranked.c.is_nan)
    rows = [tuple(r) for r in conn.execute(select(*ranked_point).where(ranked.c.rn == 1).order_by(*ranked_point))]
    last = conn.execute(
        select(*point).where(*filters).order_by(*(column.desc() for column in point)).limit(1)
    ).first()
    if last is not None and (not rows or _differs(rows[-1], tuple(last))):
        if len(rows) >= max_results:
            rows[-1] = tuple(last)
        else:
            rows.append(tuple(last))
    return [
        {"key": key, "value": json_double(value, is_nan), "timestamp": timestamp, "step": step, "run_id": run_id}
        for step, timestamp, value, is_nan in rows
    ]


def _differs(a: tuple, b: tuple) -> bool:
    """Whether two (step, timestamp, value, is_nan) points differ; NaN values compare equal."""
    step_a, ts_a, value_a, nan_a = a
    step_b, ts_b, value_b, nan_b = b
    return not ((step_a, ts_a, bool(nan_a)) == (step_b, ts_b, bool(nan_b))
                and (bool(nan_a) or value_a == value_b))
