"""Metric rows straight from a log-batch's JSON objects: the hot path of log-batch.

A batch whose every item has the usual shape (a known-good name, a float value, an integer
timestamp ≥ 0 and step, all in int64 range) becomes rows in one tight loop. Any other batch gets
None, and the caller takes the item-by-item path, which builds MLflow's exact error messages; the
two paths accept the same batches and produce the same rows (tests/tracking/test_metric_rows.py).
"""
from __future__ import annotations

import math
import sys

from mltracker.service.tracking.validation import MAX_ENTITY_KEY_LENGTH, MAX_METRICS_PER_BATCH, is_good_name

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_DOUBLE = sys.float_info.max


def stored_value(value: float) -> tuple[float, bool]:
    """(value, is_nan) as the metrics tables keep it: NaN as 0 with is_nan set (SQLite has no NaN),
    ±inf as ±max double, as MLflow stores and so answers it."""
    if value != value:
        return 0.0, True
    if math.isinf(value):
        return math.copysign(_MAX_DOUBLE, value), False
    return value, False


def fast_metric_rows(run_id: str, items: list) -> list[tuple] | None:
    """Rows in METRIC_COLUMNS order, or None when any item needs the detailed path."""
    if len(items) > MAX_METRICS_PER_BATCH:
        return None
    rows = []
    append = rows.append
    known: dict[str, bool] = {}
    isfinite = math.isfinite
    for item in items:
        if type(item) is not dict:
            return None
        key = item.get("key")
        value = item.get("value")
        timestamp = item.get("timestamp")
        step = item.get("step")
        if step is None:
            step = 0
        if type(timestamp) is not int or type(step) is not int or type(key) is not str:
            return None
        if not (0 <= timestamp <= _INT64_MAX and _INT64_MIN <= step <= _INT64_MAX):
            return None
        good = known.get(key)
        if good is None:
            good = known[key] = len(key) <= MAX_ENTITY_KEY_LENGTH and is_good_name(key)
        if not good:
            return None
        if type(value) is not float:  # ints, strings ("NaN"), None…: the detailed path
            return None
        if isfinite(value):
            append((run_id, key, timestamp, step, value, False))
        else:
            append((run_id, key, timestamp, step, *stored_value(value)))
    return rows
