"""The report model: every number, delta, best value and verdict, computed once for all renderers."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .direction import Direction
from .inputs import BaselineData, CandidateData

Change = Literal["better", "worse", "same"]


@dataclass(frozen=True)
class Delta:
    absolute: float
    percent: float | None  # None when the baseline is 0
    change: Change
    text: str  # "+0.019"
    percent_text: str | None  # "+2.1%"

    @property
    def arrow(self) -> str:
        return "▲" if self.absolute > 0 else "▼" if self.absolute < 0 else "="


@dataclass(frozen=True)
class Cell:
    text: str  # formatted value, "—" when missing, "NaN"
    value: float | str | None = None
    best: bool = False
    delta: Delta | None = None

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Column:
    key: str
    kind: Literal["metric", "param"]
    primary: bool = False
    direction: Direction | None = None  # metrics only


@dataclass(frozen=True)
class Row:
    candidate: CandidateData
    is_baseline: bool
    cells: tuple[Cell, ...]
    duration_text: str | None = None


@dataclass(frozen=True)
class MetricChange:
    metric: str
    direction: Direction
    candidate_text: str
    baseline_text: str | None = None
    delta: Delta | None = None


@dataclass(frozen=True)
class Verdict:
    kind: Literal["improves", "regresses", "matches", "unmeasured", "no_baseline", "no_values", "no_candidates"]
    candidate: str | None = None
    baseline: str | None = None
    changes: tuple[MetricChange, ...] = ()
    metric: str | None = None  # the first primary metric

    @property
    def text(self) -> str:
        """Plain-text version (commit status descriptions, logs); renderers build their own."""
        if self.kind == "no_candidates":
            return "no candidates in this pipeline"
        if self.kind == "no_values":
            return f"no candidate logged {self.metric}"
        head, *rest = self.changes
        if self.kind == "no_baseline":
            return f"best candidate {self.candidate}: {head.metric} {head.candidate_text} (no baseline)"
        if self.kind == "unmeasured":
            return (f"best candidate {self.candidate}: {head.metric} {head.candidate_text}"
                    f" (baseline {self.baseline} has no {head.metric})")
        verb = {"improves": "improves", "regresses": "is worse on", "matches": "matches"}[self.kind]
        return f"best candidate {self.candidate} {verb} {_change_text(head)} over {self.baseline}"


def _change_text(change: MetricChange) -> str:
    text = f"{change.metric} {change.baseline_text} → {change.candidate_text}"
    if change.delta and change.delta.percent_text:
        text += f" ({change.delta.percent_text})"
    return text


@dataclass(frozen=True)
class ExperimentReport:
    name: str
    key: str  # unique, file-name-safe; plot names derive from it
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]  # baseline first when there is one
    baseline: BaselineData | None
    primary_metrics: tuple[str, ...]
    directions: Mapping[str, Direction]
    verdict: Verdict
    best_candidate: CandidateData | None
    ui_url: str | None = None
    notes: tuple[str, ...] = ()  # e.g. ignored tag values
    compare: bool = False  # two candidates side by side; the "baseline" is just the first one

    @property
    def metric_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "metric")

    @property
    def param_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "param")

    @property
    def candidates(self) -> tuple[CandidateData, ...]:
        return tuple(r.candidate for r in self.rows if not r.is_baseline)

    @property
    def history_plot_name(self) -> str:
        return f"{self.key}-history.png"

    @property
    def metrics_plot_name(self) -> str:
        return f"{self.key}-metrics.png"


@dataclass(frozen=True)
class Report:
    experiments: tuple[ExperimentReport, ...]
    title: str = "mltracker report"
    compare: bool = False  # an `@bot compare a b` table rather than a pipeline report

    @property
    def plot_names(self) -> list[str]:
        return [n for e in self.experiments for n in (e.history_plot_name, e.metrics_plot_name)]
