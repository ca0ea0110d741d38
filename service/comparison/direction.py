"""Which way is better for a metric: a configured direction, else the experiment tag
`mltracker.direction.<metric>`, else higher for a GenAI scorer's aggregate (`<scorer>/mean`), else
the metric's name (`val_loss` lower, `val_acc` higher)."""
from __future__ import annotations

import re
from collections.abc import Mapping

from mltracker.reports import Direction

AUTO = "auto"
DIRECTION_TAG_PREFIX = "mltracker.direction."

_NAMES = {
    "min": Direction.MIN, "minimize": Direction.MIN, "lower": Direction.MIN, "lower_is_better": Direction.MIN,
    "max": Direction.MAX, "maximize": Direction.MAX, "higher": Direction.MAX, "higher_is_better": Direction.MAX,
}

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


def parse_direction(value: str | Direction | None) -> Direction | None:
    """min/max, minimize/maximize, lower/higher (any case, blanks ignored); anything else is None,
    `auto` included (it means: decide from the tag and the name)."""
    if value is None or isinstance(value, Direction):
        return value
    return _NAMES.get(value.strip().lower())


def is_valid_setting(value: str | None) -> bool:
    """What a user may configure: a direction, `auto`, or nothing."""
    return value is None or value.strip() in ("", AUTO) or parse_direction(value) is not None


def resolve_direction(
    metric: str,
    tags: Mapping[str, str] | None = None,
    configured: Mapping[str, str | Direction] | None = None,
    known: Direction | None = None,
) -> Direction:
    """Configured direction (not `auto`), then the experiment tag, then what is known of the metric
    (a GenAI scorer's aggregate is higher-is-better), then the metric's name."""
    for source in (configured or {}).get(metric), (tags or {}).get(DIRECTION_TAG_PREFIX + metric):
        direction = parse_direction(source)
        if direction is not None:
            return direction
    return known or infer_direction(metric)


def ignored_direction_tags(tags: Mapping[str, str]) -> list[str]:
    """Direction tags that say nothing usable, for the report's notes."""
    return [
        f"ignored tag {name}={value!r} (expected min or max)"
        for name, value in sorted(tags.items())
        if name.startswith(DIRECTION_TAG_PREFIX) and parse_direction(value) is None
    ]
