"""Metric history: every point of one metric, in pages or streamed; sampled history for charts,
for one run or for many runs and metrics at once.

Pages are key ranges of the metrics primary key (run, key, timestamp, step, value, is_nan):
the page token carries the last point, so page N costs what page 1 costs (no OFFSET, no sort).
Pages and streams hand over the driver's own (timestamp, step, value, is_nan) tuples, which
service/api writes as JSON text without building objects; the rest returns `Metric` values.
"""
from __future__ import annotations

import base64
import json
from collections import defaultdict
from typing import Iterator

from sqlalchemy import Connection, func, select, tuple_

from mltracker.service.db.engine import Database
from mltracker.service.db.id_lists import among
from mltracker.service.db.schema import metrics
from mltracker.service.errors import invalid
from mltracker.service.tracking.run_records import Metric

NAN = float("nan")

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


def history_page(conn: Connection, run_id: str, key: str, max_results: int,
                 page_token: str | None) -> tuple[list[tuple], str | None]:
    """One page of (timestamp, step, value, is_nan) tuples and the next page's token (None on the last)."""
    rows = _fetch_tuples(conn, _query(run_id, key, decode_after(page_token)).limit(max_results + 1))
    if len(rows) > max_results:
        return rows[:max_results], encode_after(tuple(rows[max_results - 1]))
    return rows, None


def history_chunks(db: Database, run_id: str, key: str) -> Iterator[list[tuple]]:
    """The whole history as lists of (timestamp, step, value, is_nan), STREAM_CHUNK points at most."""
    with db.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=STREAM_CHUNK).execute(_query(run_id, key, None))
        for partition in result.partitions(STREAM_CHUNK):
            yield partition


def bulk_history(conn: Connection, run_ids: list[str], key: str, max_results: int) -> list[tuple[str, Metric]]:
    """(run id, point) of one metric for several runs, by run id then time, at most max_results in all."""
    if not run_ids:
        return []
    query = (
        select(metrics.c.run_uuid, metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
        .where(metrics.c.key == key, metrics.c.run_uuid.in_(run_ids))
        .order_by(metrics.c.run_uuid, metrics.c.timestamp, metrics.c.step, metrics.c.value)
        .limit(max_results)
    )
    return [
        (run_id, Metric(key, NAN if is_nan else value, timestamp, step))
        for run_id, step, timestamp, value, is_nan in conn.execute(query)
    ]


def sampled_history(
    conn: Connection, run_id: str, key: str, max_results: int, start_step: int | None, end_step: int | None
) -> list[Metric]:
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
    return [Metric(key, NAN if is_nan else value, timestamp, step) for step, timestamp, value, is_nan in rows]


def _differs(a: tuple, b: tuple) -> bool:
    """Whether two (step, timestamp, value, is_nan) points differ; NaN values compare equal."""
    step_a, ts_a, value_a, nan_a = a
    step_b, ts_b, value_b, nan_b = b
    return not ((step_a, ts_a, bool(nan_a)) == (step_b, ts_b, bool(nan_b))
                and (bool(nan_a) or value_a == value_b))


def sampled_histories(
    conn: Connection, run_ids: list[str], max_results: int, keys: list[str] | None = None
) -> dict[str, dict[str, list[Metric]]]:
    """run id -> metric key -> at most max_results points, sampled as `sampled_history` samples one
    series, for every metric of every run (or only `keys`) in one query (window functions
    partitioned by run and metric): what a comparison of many candidates plots."""
    if not run_ids:
        return {}
    max_results = max(1, max_results)
    series = (metrics.c.run_uuid, metrics.c.key)
    point = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
    filters = [among(conn, metrics.c.run_uuid, run_ids)]
    if keys is not None:
        filters.append(metrics.c.key.in_(keys))
    bucketed = select(
        *series, *point,
        func.ntile(max_results).over(partition_by=series, order_by=point).label("bucket"),
        func.row_number().over(partition_by=series, order_by=[c.desc() for c in point]).label("from_end"),
    ).where(*filters).subquery()
    b = bucketed.c
    ranked = select(
        b.run_uuid, b.key, b.step, b.timestamp, b.value, b.is_nan, b.from_end,
        func.row_number().over(partition_by=(b.run_uuid, b.key, b.bucket),
                               order_by=(b.step, b.timestamp, b.value, b.is_nan)).label("rn"),
    ).subquery()
    r = ranked.c
    query = (
        select(r.run_uuid, r.key, r.step, r.timestamp, r.value, r.is_nan, r.rn, r.from_end)
        .where((r.rn == 1) | (r.from_end == 1))
        .order_by(r.run_uuid, r.key, r.step, r.timestamp, r.value, r.is_nan)
    )
    sampled: dict[str, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    last: dict[tuple[str, str], tuple] = {}
    for run_id, key, step, timestamp, value, is_nan, rn, from_end in conn.execute(query):
        row = (step, timestamp, value, bool(is_nan))
        if rn == 1:
            sampled[run_id][key].append(row)
        if from_end == 1:
            last[(run_id, key)] = row
    result: dict[str, dict[str, list[Metric]]] = {}
    for run_id, by_key in sampled.items():
        result[run_id] = {}
        for key, rows in by_key.items():
            final = last.get((run_id, key))
            if final is not None and _differs(rows[-1], final):
                if len(rows) >= max_results:
                    rows[-1] = final
                else:
                    rows.append(final)
            result[run_id][key] = [Metric(key, NAN if nan else value, ts, step) for step, ts, value, nan in rows]
    return result
