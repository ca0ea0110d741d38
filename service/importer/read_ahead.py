"""The import's first source requests, sent while the importer starts.

Before it can plan a run, the importer spends about a second on itself (its imports, the store's
migrations) with the source idle. The requests the runs phase makes first are sent then, in the
background: the experiments, the first page of runs of the first experiments until every worker
has a batch, and the first bulk history request of each of those batches. Their answers wait in
the source client for the identical request (SourceClient.read_ahead), where the runs phase takes
them; nothing else changes, the plan still decides what is copied. A history answer the plan does
not need (a run imported before) is dropped when the runs phase ends: at most one bulk history
request per worker read for nothing.
"""
from __future__ import annotations

import threading

from mltracker.service.importer.batching import BULK_POINTS, BULK_RUNS, batch_size, metric_keys, runs_since
from mltracker.service.importer.source import SourceClient, decoded


def start_read_ahead(source: SourceClient, experiments: tuple[str, ...], since_ms: int | None, workers: int) -> None:
    threading.Thread(target=_read_ahead, args=(source, set(experiments), since_ms, max(1, workers)),
                     name="import-read-ahead", daemon=True).start()


def _read_ahead(source: SourceClient, wanted: set[str], since_ms: int | None, workers: int) -> None:
    try:
        for batch in _first_batches(source, wanted, since_ms, workers):
            keys_by_run = {run["info"].get("run_id") or run["info"]["run_uuid"]: metric_keys(run) for run in batch}
            keys = sorted({key for run_keys in keys_by_run.values() for key in run_keys})
            if not keys:
                continue
            # the batch's first history request, as metrics_copy.read_histories makes it
            run_ids = sorted(run_id for run_id, run_keys in keys_by_run.items() if keys[0] in run_keys)
            if source.read_ahead_history_bulk(run_ids[:BULK_RUNS], keys[0], BULK_POINTS) is None:
                return
    except Exception:  # noqa: BLE001 - whatever went wrong, the runs phase asks again and reports it
        return


def _first_batches(source: SourceClient, wanted: set[str], since_ms: int | None, workers: int):
    """The first `workers` batches of runs, cut as runner._runs cuts them."""
    route, body = source.experiments_request()
    listing = source.read_ahead("POST", route, json=body)
    if listing is None:
        return
    found = [e for e in decoded(listing.result()).get("experiments", []) if not wanted or e["name"] in wanted]
    count = 0
    for experiment in found[:workers]:
        route, body = source.runs_request(str(experiment["experiment_id"]))
        page = source.read_ahead("POST", route, json=body)
        if page is None:
            return
        runs = runs_since(decoded(page.result()).get("runs", []), since_ms)
        size = batch_size(len(runs), workers)
        for start in range(0, len(runs), size):
            yield runs[start:start + size]
            count += 1
            if count == workers:
                return
