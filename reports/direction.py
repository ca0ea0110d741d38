"""Which way is better for a metric, as the report shows it (arrows, wording). Which direction a
metric has is decided by the caller and passed in with `ExperimentData.rules`."""
from __future__ import annotations

import enum


class Direction(str, enum.Enum):
    MIN = "min"  # lower is better
    MAX = "max"  # higher is better

    def is_better(self, value: float, reference: float) -> bool:
        return value < reference if self is Direction.MIN else value > reference

    @property
    def description(self) -> str:
        return "lower is better" if self is Direction.MIN else "higher is better"

    @property
    def arrow(self) -> str:
        return "↓" if self is Direction.MIN else "↑"
