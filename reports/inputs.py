"""What the caller (the bot, the UI) hands to reports: plain data, no database objects."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .direction import Direction

Point = tuple[int, float]  # (step, value)


@dataclass(frozen=True)
class CandidateData:
    """One candidate (MLflow run). `metrics` holds final values; `history` the logged series."""

    run_id: str
    name: str
    status: str = "FINISHED"
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    history: Mapping[str, Sequence[Point]] = field(default_factory=dict)
    # Metric keys in the order they were first logged; decides the default primary metric.
    metric_order: Sequence[str] = ()
    ui_url: str | None = None
    job_url: str | None = None
    duration_s: float | None = None  # wall-clock run time, shown next to the name
    # An `mlflow.genai.evaluate` run: where its examples that failed a scorer are listed.
    failing_examples_url: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.run_id[:8] or "(unnamed)"


@dataclass(frozen=True)
class BaselineData:
    """The reference the caller chose, e.g. the latest candidate of `main`'s pipeline."""

    label: str  # e.g. "main"
    candidate: CandidateData
    pipeline_url: str | None = None


class ComparisonRules(Protocol):
    """The caller's judgement, which reports/ only renders."""

    def primary_metrics(self, logged_order: Sequence[str]) -> Sequence[str]: ...

    def direction(self, metric: str) -> Direction: ...

    def best(self, candidates: Sequence[CandidateData], primaries: Sequence[str]) -> CandidateData | None: ...

    @property
    def notes(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ExperimentData:
    name: str
    candidates: Sequence[CandidateData]
    baseline: BaselineData | None = None
    rules: ComparisonRules | None = None  # required: reports/ never decides which way is better
    metric_order: Sequence[str] = ()  # overrides the candidates' own order when given
    ui_url: str | None = None
