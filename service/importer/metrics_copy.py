"""Full metric histories, read from the source a page at a time and written in bulk batches
(memory flat in the history's length). NaN and ±inf keep MLflow's stored form (metric_rows.stored_value);
points already stored are skipped, so a resumed copy adds only what is missing."""
from __future__ import annotations

from mltracker.service.importer.context import ImportContext
from mltracker.service.tracking.metric_rows import stored_value
from mltracker.service.tracking.runs import Batch, store_batch

FLUSH_ROWS = 10_000


def copy_histories(ctx: ImportContext, run_id: str, keys: list[str]) -> None:
    buffer: list[tuple] = []
    for key in keys:
        for page in ctx.source.metric_history(run_id, key):
            for point in page:
                buffer.append((run_id, key, int(point.get("timestamp") or 0), int(point.get("step") or 0),
                               *stored_value(float(point.get("value", 0.0)))))
            if len(buffer) >= FLUSH_ROWS:
                _flush(ctx, run_id, buffer)
                buffer = []
    _flush(ctx, run_id, buffer)


def _flush(ctx: ImportContext, run_id: str, rows: list[tuple]) -> None:
    if not rows:
        return
    store_batch(ctx.db, ctx.project_id, Batch(run_id, rows, _newest_per_key(rows), [], []))
    ctx.summary.add("metric_points", len(rows))


def _newest_per_key(rows: list[tuple]) -> list[tuple]:
    """Per key, the point with the greatest (step, timestamp, value): what latest_metrics keeps."""
    newest: dict[str, tuple] = {}
    for row in rows:
        current = newest.get(row[1])
        if current is None or (row[3], row[2], row[4]) > (current[3], current[2], current[4]):
            newest[row[1]] = row
    return list(newest.values())
