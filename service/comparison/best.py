"""The best candidate: best value of the first primary metric, ties broken by the next primary
metrics, then by the candidates' order. Failed or killed candidates win only when nothing else has a
value."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from mltracker.reports import Direction

INACTIVE_STATUSES = frozenset({"FAILED", "KILLED"})

C = TypeVar("C")


def comparable(value: object) -> float | None:
    """A metric value as a number to compare, or None (missing, not a number, or NaN)."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def best_candidate(
    candidates: Sequence[C],
    primaries: Sequence[str],
    directions: Mapping[str, Direction],
    *,
    value: Callable[[C, str], object] = lambda c, metric: c.metrics.get(metric),  # type: ignore[attr-defined]
    status: Callable[[C], str] = lambda c: c.status,  # type: ignore[attr-defined]
) -> C | None:
    """None when no candidate has a value of the first primary metric."""
    if not primaries:
        return None

    def sort_key(item: tuple[int, C]):
        index, candidate = item
        key = []
        for metric in primaries:
            number = comparable(value(candidate, metric))
            if number is None:
                key.append((1, 0.0))
            else:
                key.append((0, number if directions[metric] is Direction.MIN else -number))
        return ((status(candidate) or "").upper() in INACTIVE_STATUSES, key, index)

    measured = [(i, c) for i, c in enumerate(candidates) if comparable(value(c, primaries[0])) is not None]
    return min(measured, key=sort_key)[1] if measured else None
