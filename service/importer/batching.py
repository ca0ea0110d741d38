"""How the runs phase cuts its work, shared with the read-ahead (read_ahead.py), which must ask
for exactly what the runs phase will ask for first."""
from __future__ import annotations

RUNS_PER_BATCH = 25  # runs whose histories are read together (bulk reads take up to 100)
BULK_RUNS = 100  # MLflow's bulk history route: runs per request
BULK_POINTS = 25_000  # and points per answer


def batch_size(page_runs: int, workers: int) -> int:
    """Runs per batch: up to RUNS_PER_BATCH, but small enough that a page keeps every worker busy."""
    return max(1, min(RUNS_PER_BATCH, -(-page_runs // max(1, workers))))


def runs_since(page: list[dict], since_ms: int | None) -> list[dict]:
    """The runs of a page started at or after since_ms (all of them without it)."""
    return [run for run in page if since_ms is None or int(run["info"].get("start_time") or 0) >= since_ms]


def metric_keys(run: dict) -> list[str]:
    return sorted({m["key"] for m in (run.get("data") or {}).get("metrics") or []})
