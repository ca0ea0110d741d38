"""The comparison rules of one experiment, handed to reports/ (which renders but never decides):
primary metrics, each metric's direction, the best candidate."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mltracker.reports import Direction
from mltracker.service.comparison.best import best_candidate
from mltracker.service.comparison.direction import ignored_direction_tags, resolve_direction

PRIMARY_METRIC_TAG = "mltracker.primary_metric"


def primary_metrics(tags: Mapping[str, str], logged_order: Sequence[str],
                    explicit: Sequence[str] | None = None) -> list[str]:
    """Explicit, else the experiment tag `mltracker.primary_metric` (comma-separated), else the
    first metric logged."""
    chosen = [m.strip() for m in (explicit or tags.get(PRIMARY_METRIC_TAG, "").split(",")) if m.strip()]
    return list(dict.fromkeys(chosen or list(logged_order[:1])))


@dataclass(frozen=True)
class ComparisonRules:
    tags: Mapping[str, str] = field(default_factory=dict)
    directions: Mapping[str, str | Direction] = field(default_factory=dict)  # configured, per metric
    explicit_primary_metrics: Sequence[str] | None = None
    # Aggregates of GenAI scorers (scorer_metrics.experiment_scorer_metrics): higher is better.
    scorer_metrics: frozenset[str] = frozenset()

    def direction(self, metric: str) -> Direction:
        known = Direction.MAX if metric in self.scorer_metrics else None
        return resolve_direction(metric, self.tags, self.directions, known)

    def primary_metrics(self, logged_order: Sequence[str]) -> list[str]:
        return primary_metrics(self.tags, logged_order, self.explicit_primary_metrics)

    def best(self, candidates, primaries: Sequence[str]):
        return best_candidate(candidates, primaries, {m: self.direction(m) for m in primaries})

    @property
    def notes(self) -> list[str]:
        return ignored_direction_tags(self.tags)
