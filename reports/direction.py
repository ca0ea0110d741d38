"""Which way is better for a metric: lower (min) or higher (max)."""
from __future__ import annotations

import enum
import re
from collections.abc import Mapping


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


DIRECTION_TAG_PREFIX = "mltracker.direction."

# Whole words (after splitting the name) that mean lower is better.
LOWER_IS_BETTER_WORDS = frozenset({
    "loss", "logloss", "nll", "error", "err", "mae", "mse", "rmse", "mape", "perplexity", "ppl",
    "wer", "cer", "latency", "time", "duration", "runtime",
})
# Words that turn a lower-is-better quantity into a gain: `loss_reduction`, `time_saved`.
GAIN_WORDS = frozenset({"reduction", "decrease", "saved", "saving", "savings", "improvement", "gain", "speedup"})

_SEPARATORS = re.compile(r"[_\-/.\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def metric_words(name: str) -> list[str]:
    """`train/val_Loss-ema` -> ['train', 'val', 'loss', 'ema']; camelCase splits too."""
    words: list[str] = []
    for part in _SEPARATORS.split(name):
        words.extend(w.lower() for w in _CAMEL.split(part) if w)
    return words


def infer_direction(name: str) -> Direction:
    words = set(metric_words(name))
    if words & LOWER_IS_BETTER_WORDS and not words & GAIN_WORDS:
        return Direction.MIN
    return Direction.MAX


def parse_direction(value: str | None) -> Direction | None:
    """`min`/`max` (any case, surrounding blanks ignored); anything else is None."""
    if value is None:
        return None
    try:
        return Direction(value.strip().lower())
    except ValueError:
        return None


def resolve_direction(
    metric: str,
    tags: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Direction:
    """Explicit override, then the experiment tag `mltracker.direction.<metric>`, then the name."""
    for source in (overrides or {}).get(metric), (tags or {}).get(DIRECTION_TAG_PREFIX + metric):
        direction = parse_direction(source)
        if direction is not None:
            return direction
    return infer_direction(metric)
