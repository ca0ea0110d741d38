"""Links posted to GitLab: mltracker's UI pages and GitLab's own job/pipeline pages."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from mltracker.service.gitlab.limits import COMMIT_STATUS_TARGET_URL_MAX


@dataclass(frozen=True)
class Links:
    base_url: str  # MLTRACKER_PUBLIC_URL
    project_id: int
    project_web_url: str | None = None  # e.g. https://gitlab.example.com/group/project

    @property
    def project(self) -> str:
        return f"{self.base_url.rstrip('/')}/projects/{self.project_id}"

    def candidate(self, run_id: str) -> str:
        return f"{self.project}/candidates/{run_id}"

    def failing_examples(self, run_id: str) -> str:
        """The traces of an `mlflow.genai.evaluate` run that a scorer failed."""
        return f"{self.candidate(run_id)}/traces?assessment=failing"

    def compare(self, run_ids: list[str]) -> str:
        return f"{self.project}/compare?{urlencode([('run', r) for r in run_ids])}"

    def pipeline_page(self, pipeline_id: int, against: str | None = None) -> str:
        """mltracker's page of one pipeline's candidates and their comparison with branch `against`:
        short and stable whatever the number of candidates (GitLab caps a commit status's
        target_url at 255 characters; a branch name too long for that is left out)."""
        page = f"{self.project}/pipelines/{int(pipeline_id)}"
        with_branch = f"{page}?{urlencode({'against': against})}" if against else page
        return with_branch if len(with_branch) <= COMMIT_STATUS_TARGET_URL_MAX else page

    def experiment(self, experiment_id: int) -> str:
        return f"{self.project}/experiments/{experiment_id}"

    def model(self, name: str) -> str:
        return f"{self.project}/models/{name}"

    def job(self, job_id) -> str | None:
        return f"{self.project_web_url.rstrip('/')}/-/jobs/{job_id}" if self.project_web_url else None

    def pipeline(self, pipeline_id) -> str | None:
        return f"{self.project_web_url.rstrip('/')}/-/pipelines/{pipeline_id}" if self.project_web_url else None
