"""Metric history: every point of one metric, paged; and sampled bulk history for charts."""
from __future__ import annotations

from sqlalchemy import Connection, select

from service.db.schema import metrics
from service.search.page_token import decode_offset, encode_offset
from service.tracking.serialize import metric_json

MAX_RESULTS_PER_RUN = 2500


def metric_history(
    conn: Connection, run_id: str, key: str, max_results: int | None, page_token: str | None
) -> tuple[list[dict], str | None]:
    offset = decode_offset(page_token)
    query = (
        select(metrics)
        .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
        .order_by(metrics.c.timestamp, metrics.c.step, metrics.c.value)
        .offset(offset)
    )
    if max_results is not None:
        query = query.limit(max_results + 1)
    rows = conn.execute(query).all()
    next_token = None
    if max_results is not None and len(rows) > max_results:
        rows = rows[:max_results]
        next_token = encode_offset(offset + max_results)
    return [metric_json(r) for r in rows], next_token


def sampled_history(
    conn: Connection, run_id: str, key: str, max_results: int, start_step: int | None, end_step: int | None
) -> list[dict]:
    """Up to max_results points evenly spread over the history, first and last always kept."""
    query = select(metrics).where(metrics.c.run_uuid == run_id, metrics.c.key == key)
    if start_step is not None:
        query = query.where(metrics.c.step >= start_step, metrics.c.step <= end_step)
    rows = conn.execute(query.order_by(metrics.c.step, metrics.c.timestamp, metrics.c.value)).all()
    if len(rows) > max_results:
        if max_results == 1:
            rows = rows[-1:]
        else:
            last = len(rows) - 1
            picks = sorted({round(i * last / (max_results - 1)) for i in range(max_results)})
            rows = [rows[i] for i in picks]
    return [{**metric_json(r), "run_id": run_id} for r in rows]
