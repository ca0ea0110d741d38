"""Runs as the domain reads them: typed values, metric values as floats (NaN and the infinities
included). Only service/api turns them into MLflow's JSON (service/api/mlflow_json.py).

The values made by the thousand (a search page's runs and metrics) are named tuples: as typed and
immutable as frozen dataclasses, and several times cheaper to make."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple


class Metric(NamedTuple):
    key: str
    value: float
    timestamp: int
    step: int


class RunInfo(NamedTuple):
    run_id: str
    name: str
    experiment_id: int
    user_id: str | None
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str

    @classmethod
    def from_row(cls, row) -> "RunInfo":
        """From a row of the runs table."""
        return cls(row.run_uuid, row.name, row.experiment_id, row.user_id, row.status, row.start_time,
                   row.end_time, row.artifact_uri, row.lifecycle_stage)

    @property
    def duration_s(self) -> float | None:
        """Wall-clock run time; None while running or when the clock went backwards."""
        if self.start_time is not None and self.end_time is not None and self.end_time >= self.start_time:
            return (self.end_time - self.start_time) / 1000
        return None


@dataclass(frozen=True, slots=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    dataset: Dataset
    tags: tuple[InputTag, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelInput:
    model_id: str


@dataclass(frozen=True, slots=True)
class ModelOutput:
    model_id: str
    step: int


@dataclass(frozen=True, slots=True)
class RunInputs:
    datasets: tuple[DatasetInput, ...] = ()
    models: tuple[ModelInput, ...] = ()


NO_INPUTS = RunInputs()


@dataclass(frozen=True, slots=True)
class Run:
    info: RunInfo
    metrics: tuple[Metric, ...] = ()  # the latest point of each metric, by key
    params: Mapping[str, str] = field(default_factory=dict)  # by key
    tags: Mapping[str, str] = field(default_factory=dict)  # by key
    inputs: RunInputs = NO_INPUTS
    outputs: tuple[ModelOutput, ...] = ()

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def metric_values(self) -> dict[str, float]:
        return {m.key: m.value for m in self.metrics}
