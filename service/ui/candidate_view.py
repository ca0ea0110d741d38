"""A candidate (a typed run from load_runs) shaped for the templates."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g

from mltracker.service.context import services
from mltracker.service.tracking.run_records import DatasetInput, Run
from mltracker.service.ui.links import CiLinkView, ci_links

SYSTEM_TAG_PREFIX = "mlflow."
CI_TAG_PREFIX = "gitlab."


@dataclass
class CandidateRow:
    run_id: str
    name: str
    status: str
    experiment_id: int
    start_time: int | None
    end_time: int | None
    user: str
    lifecycle_stage: str
    artifact_uri: str
    metrics: dict[str, float] = field(default_factory=dict)
    metric_steps: dict[str, int] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    ci: dict[str, CiLinkView] = field(default_factory=dict)
    datasets: tuple[DatasetInput, ...] = ()

    @classmethod
    def of(cls, run: Run) -> "CandidateRow":
        info, tags = run.info, dict(run.tags)
        access = g.get("access")
        return cls(
            run_id=info.run_id,
            name=info.name or tags.get("mlflow.runName") or info.run_id[:8],
            status=info.status,
            experiment_id=info.experiment_id,
            start_time=info.start_time,
            end_time=info.end_time,
            user=tags.get("gitlab.user") or tags.get("mlflow.user") or info.user_id or "",
            lifecycle_stage=info.lifecycle_stage,
            artifact_uri=info.artifact_uri or "",
            metrics=run.metric_values,
            metric_steps={m.key: m.step for m in run.metrics},
            params=dict(run.params),
            tags=tags,
            ci=ci_links(tags, services().settings.gitlab_url, access.path if access else None),
            datasets=run.inputs.datasets,
        )

    @property
    def user_tags(self) -> dict[str, str]:
        return {k: v for k, v in self.tags.items() if not k.startswith((SYSTEM_TAG_PREFIX, CI_TAG_PREFIX))}

    @property
    def system_tags(self) -> dict[str, str]:
        return {k: v for k, v in self.tags.items() if k.startswith(SYSTEM_TAG_PREFIX)}

    @property
    def ci_tags(self) -> dict[str, str]:
        return {k: v for k, v in self.tags.items() if k.startswith(CI_TAG_PREFIX)}

    @property
    def duration_s(self) -> float | None:
        if self.start_time and self.end_time and self.end_time >= self.start_time:
            return (self.end_time - self.start_time) / 1000
        return None
