"""A candidate (MLflow run JSON from load_runs) shaped for the templates."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g

from mltracker.service.context import services
from mltracker.service.ui.links import CiLinkView, ci_links

SYSTEM_TAG_PREFIX = "mlflow."
CI_TAG_PREFIX = "gitlab."


def _number(value):
    if isinstance(value, str):  # "NaN", "Infinity", "-Infinity" in MLflow JSON
        return float(value.replace("Infinity", "inf"))
    return value


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
    datasets: list[dict] = field(default_factory=list)

    @classmethod
    def from_json(cls, run: dict) -> "CandidateRow":
        info, data = run["info"], run["data"]
        tags = {t["key"]: t["value"] for t in data.get("tags", [])}
        access = g.get("access")
        settings = services().settings
        row = cls(
            run_id=info["run_id"],
            name=info.get("run_name") or tags.get("mlflow.runName") or info["run_id"][:8],
            status=info["status"],
            experiment_id=int(info["experiment_id"]),
            start_time=info.get("start_time"),
            end_time=info.get("end_time"),
            user=tags.get("gitlab.user") or tags.get("mlflow.user") or info.get("user_id") or "",
            lifecycle_stage=info.get("lifecycle_stage", "active"),
            artifact_uri=info.get("artifact_uri", ""),
            metrics={m["key"]: _number(m["value"]) for m in data.get("metrics", [])},
            metric_steps={m["key"]: m.get("step", 0) for m in data.get("metrics", [])},
            params={p["key"]: p["value"] for p in data.get("params", [])},
            tags=tags,
            ci=ci_links(tags, settings.gitlab_url, access.path if access else None),
            datasets=[d for d in run.get("inputs", {}).get("dataset_inputs", [])],
        )
        return row

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
