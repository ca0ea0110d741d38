"""Full metric histories of a batch of runs, read from the source in bulk and written in bulk
(memory bounded by a page, not by a history's length). NaN and ±inf keep MLflow's stored form
(metric_rows.stored_value); points already stored are skipped, so a resumed copy adds only what
is missing.

Reading: MLflow's bulk history route gives one key's points for up to 100 runs per request, sorted
by run id; when a response is full, the runs before its last run id are complete and the rest are
asked again. A run whose history alone fills a response, and sources without the route (GitLab),
are read with the paged get-history of one run.
"""
from __future__ import annotations

import math
from collections import defaultdict
from operator import itemgetter
from typing import Iterator

from mltracker.service.importer.batching import BULK_POINTS, BULK_RUNS
from mltracker.service.importer.context import ImportContext
from mltracker.service.importer.source import RouteUnavailable, SourceClient, SourceError
from mltracker.service.tracking.metric_rows import stored_value
from mltracker.service.tracking.runs import Batch, write_batch

FLUSH_ROWS = 50_000


def copy_histories(ctx: ImportContext, keys_by_run: dict[str, list[str]]) -> None:
    runs_by_key: dict[str, list[str]] = defaultdict(list)
    for run_id, keys in keys_by_run.items():
        for key in keys:
            runs_by_key[key].append(run_id)
    pending: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    count = 0
    for key in sorted(runs_by_key):
        for run_id, points in read_histories(ctx.source, runs_by_key[key], key):
            pending[run_id, key] += history_rows(run_id, key, points)
            count += len(points)
            if count >= FLUSH_ROWS:
                _flush(ctx, pending)
                pending, count = defaultdict(list), 0
    _flush(ctx, pending)


def history_rows(run_id: str, key: str, points: list[dict]) -> list[tuple]:
    """Rows in METRIC_COLUMNS order. MLflow always sends every field, as numbers; anything else
    (a field left out, a number as a string) takes the lenient path."""
    isfinite = math.isfinite
    try:
        rows = []
        append = rows.append
        for point in points:
            value = point["value"]
            if type(value) is float and isfinite(value):
                append((run_id, key, int(point["timestamp"]), int(point["step"]), value, False))
            else:
                append((run_id, key, int(point["timestamp"]), int(point["step"]), *stored_value(float(value))))
        return rows
    except (KeyError, TypeError, ValueError):
        return [(run_id, key, int(point.get("timestamp") or 0), int(point.get("step") or 0),
                 *stored_value(float(point.get("value", 0.0)))) for point in points]


def read_histories(source: SourceClient, run_ids: list[str], key: str) -> Iterator[tuple[str, list[dict]]]:
    """(run id, points) pieces covering every point of `key` in each run; a run may come in several pieces."""
    pending = sorted(set(run_ids))
    while pending:
        if not source.bulk_history:
            for run_id in pending:
                for page in source.metric_history(run_id, key):
                    yield run_id, page
            return
        chunk = pending[:BULK_RUNS]
        try:
            points = source.metric_history_bulk(chunk, key, BULK_POINTS)
        except RouteUnavailable:
            source.bulk_history = False
            continue
        except SourceError as exc:
            if exc.status not in (400, 404):
                raise
            source.bulk_history = False  # a server that answers the route differently: read run by run
            continue
        by_run: dict[str, list[dict]] = defaultdict(list)
        for point in points:
            by_run[point["run_id"]].append(point)
        if len(points) < BULK_POINTS:
            complete = chunk
        else:
            last = points[-1]["run_id"]
            complete = [run_id for run_id in chunk if run_id < last]
            if not complete:  # one history fills the response: page through it alone
                for page in source.metric_history(last, key):
                    yield last, page
                complete = [last]
                by_run.pop(last, None)
        for run_id in complete:
            if run_id in by_run:
                yield run_id, by_run[run_id]
        done = set(complete)
        pending = [run_id for run_id in pending if run_id not in done]


def _flush(ctx: ImportContext, pending: dict[tuple[str, str], list[tuple]]) -> None:
    by_run: dict[str, Batch] = {}
    newest = itemgetter(3, 2, 4)  # what latest_metrics keeps: the greatest (step, timestamp, value)
    for (run_id, _key), rows in pending.items():
        if not rows:
            continue
        batch = by_run.get(run_id) or by_run.setdefault(run_id, Batch(run_id, [], [], [], []))
        batch.metric_rows.extend(rows)
        batch.latest_rows.append(max(rows, key=newest))
    if not by_run:
        return
    with ctx.db.write() as conn:
        for batch in by_run.values():
            write_batch(conn, ctx.project_id, batch, skip_stored=True)
    ctx.summary.add("metric_points", sum(len(b.metric_rows) for b in by_run.values()))
