"""The import's first source requests, sent while the importer starts.

Before it can plan a run, the importer spends about a second on itself (its imports, the store's
migrations) with the source idle. The requests the runs phase makes first are sent then, in the
background: the experiments, the first page of runs of the first experiments until every worker
has a batch, and the first bulk history requests of each of those batches (one at a time per
batch, as its worker will ask them). Their answers wait in the source client for the identical
request (SourceClient.read_ahead), where the runs phase takes them; nothing else changes, the plan
still decides what is copied. A history answer the plan does not need (a run imported before) is
dropped when the runs phase ends: at most AHEAD_PER_BATCH bulk history requests per worker read
for nothing, and as many answers held in memory.
"""
from __future__ import annotations

import threading
import time

from mltracker.service.importer.batching import BULK_POINTS, BULK_RUNS, batch_size, metric_keys, runs_since
from mltracker.service.importer.source import SourceClient, decoded


AHEAD_PER_BATCH = 2
# Between the batches' first requests. A worker process of `mlflow server` (asyncio) accepts every
# connection waiting when it wakes up, so requests sent at the same instant tend to land on one
# worker; a moment apart, the next one goes to a worker that is not busy yet.
STAGGER_S = 0.02


def start_read_ahead(source: SourceClient, experiments: tuple[str, ...], since_ms: int | None, workers: int) -> None:
    threading.Thread(target=_read_ahead, args=(source, set(experiments), since_ms, max(1, workers)),
                     name="import-read-ahead", daemon=True).start()


def _read_ahead(source: SourceClient, wanted: set[str], since_ms: int | None, workers: int) -> None:
    try:
        for batch in _first_batches(source, wanted, since_ms, workers):
            keys_by_run = {run["info"].get("run_id") or run["info"]["run_uuid"]: metric_keys(run) for run in batch}
            keys = sorted({key for run_keys in keys_by_run.values() for key in run_keys})
            # the batch's first history requests, as metrics_copy.read_histories makes them: by key
            _ask_in_turn(source, [(sorted(run_id for run_id, run_keys in keys_by_run.items() if key in run_keys)[:BULK_RUNS],
                                   key) for key in keys[:AHEAD_PER_BATCH]])
            time.sleep(STAGGER_S)
    except Exception:  # noqa: BLE001 - whatever went wrong, the runs phase asks again and reports it
        return


def _ask_in_turn(source: SourceClient, requests: list[tuple[list[str], str]]) -> None:
    """Each request once the one before is answered, as the batch's worker will ask them."""
    if not requests:
        return
    (run_ids, key), rest = requests[0], requests[1:]
    answer = source.read_ahead_history_bulk(run_ids, key, BULK_POINTS)
    if answer is not None and rest:
        answer.add_done_callback(lambda _: _ask_in_turn(source, rest))


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
