"""The fast metric path of log-batch accepts exactly what the item-by-item path accepts, and
produces the same rows; everything else falls through to the path with MLflow's messages."""
from __future__ import annotations

import math
import random

import pytest

from mltracker.service.api.runs import _metric_point
from mltracker.service.errors import MlflowError
from mltracker.service.tracking.metric_rows import fast_metric_rows
from mltracker.service.tracking.runs import prepare_batch
from mltracker.service.tracking.validation import MAX_METRICS_PER_BATCH

RUN = "r" * 32

KEYS = ["loss", "val/acc", "a b:c-d.e_f", "", "../up", "/abs", "a//b", "bad*char", "x" * 250, "x" * 251,
        None, 7, ["loss"]]
VALUES = [0.5, -1e308, float("nan"), float("inf"), float("-inf"), 0.0, 3, True, "NaN", "1.5", "x", None, [1.0]]
TIMESTAMPS = [0, 1_700_000_000_000, -1, 2**63 - 1, 2**63, 1.0, 2.5, "17", True, None]
STEPS = [0, -5, 10**6, 2**63 - 1, -(2**63), 2**63, 3.0, "4", False, None, "missing"]


def slow_rows(items: list[dict]) -> list[tuple]:
    return prepare_batch(RUN, [_metric_point(m) for m in items], [], []).metric_rows


def item(key, value, timestamp, step) -> dict:
    out = {"key": key, "value": value, "timestamp": timestamp}
    if step != "missing":
        out["step"] = step
    return out


def same(a: list[tuple], b: list[tuple]) -> bool:
    return len(a) == len(b) and all(
        x[:4] == y[:4] and x[5] == y[5] and (x[4] == y[4] or (math.isnan(x[4]) and math.isnan(y[4])))
        for x, y in zip(a, b)
    )


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", VALUES)
def test_every_single_item_shape_agrees(key, value):
    for timestamp in TIMESTAMPS:
        for step in STEPS:
            items = [item(key, value, timestamp, step)]
            fast = fast_metric_rows(RUN, items)
            try:
                slow = slow_rows(items)
            except (MlflowError, OverflowError, TypeError, ValueError):
                assert fast is None, items  # refused by the detailed path: never accepted here
                continue
            if fast is not None:
                assert same(fast, slow), (items, fast, slow)


def test_a_typical_batch_takes_the_fast_path_with_identical_rows():
    rng = random.Random(7)
    items = [item(f"k{k}", rng.choice([rng.random(), float("nan"), float("inf"), -rng.random() * 1e9]),
                  1_700_000_000_000 + s, s) for k in range(10) for s in range(100)]
    fast = fast_metric_rows(RUN, items)
    assert fast is not None
    assert same(fast, slow_rows(items))
    assert fast[0] == (RUN, "k0", 1_700_000_000_000, 0, items[0]["value"], False)


def test_one_odd_item_sends_the_whole_batch_to_the_detailed_path():
    items = [item("loss", 0.1, 1, s) for s in range(10)]
    items[7]["value"] = "0.5"  # valid, but only the detailed path converts strings
    assert fast_metric_rows(RUN, items) is None
    assert slow_rows(items)[7][4] == 0.5


def test_oversized_batch_is_left_to_the_limit_check():
    items = [item("loss", 0.1, 1, s) for s in range(MAX_METRICS_PER_BATCH + 1)]
    assert fast_metric_rows(RUN, items) is None
    with pytest.raises(MlflowError, match="at most 1000 metrics"):
        slow_rows(items)


def test_newest_point_per_key_matches_either_path():
    items = [item("m", v, t, s) for v, t, s in [(1.0, 5, 2), (2.0, 4, 2), (0.5, 9, 1), (3.0, 4, 2)]]
    fast = prepare_batch(RUN, [], [], [], metric_rows=fast_metric_rows(RUN, items))
    slow = prepare_batch(RUN, [_metric_point(m) for m in items], [], [])
    assert fast.latest_rows == slow.latest_rows == [(RUN, "m", 5, 2, 1.0, False)]
