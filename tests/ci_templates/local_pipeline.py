"""A project checkout whose `.gitlab-ci.yml` includes this repository's CI templates, run job by job
with gitlab-ci-local.

The templates are included with `include: local:` and `inputs:`, which GitLab validates and
interpolates exactly as it does `include: component:` (gitlab-ci-local resolves `component:` only by
cloning from a GitLab instance). Each job runs on its own, with the identity the GitLab stand-in
gave it (`CI_JOB_TOKEN`, `CI_JOB_ID`, `CI_PIPELINE_ID`, ...) passed as variables: a token the stand-in
issued is what mltracker checks, as it checks a real job's token against GitLab.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.ci_templates.ci_tools import REPO, NodeTools

TEMPLATES = REPO / "ci_templates"
PREDEFINED = ("CI_JOB_ID", "CI_JOB_TOKEN", "CI_PIPELINE_ID", "CI_PROJECT_ID", "CI_PROJECT_NAME", "CI_COMMIT_SHA",
              "CI_COMMIT_REF_NAME", "CI_DEFAULT_BRANCH", "CI_PIPELINE_SOURCE", "CI_MERGE_REQUEST_IID",
              "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")


@dataclass(frozen=True)
class JobRun:
    returncode: int
    output: str  # gitlab-ci-local's whole output
    job: str

    def log(self) -> list[str]:
        """The job's own output lines (gitlab-ci-local prints them as `<job> > line`)."""
        prefix = f"{self.job} > "
        return [line.split(prefix, 1)[1] for line in self.output.splitlines() if prefix in line]

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and f"PASS  {self.job}" in self.output


def job_identity(job, project_name: str, *, mr_iid: int | None = None, source_branch: str | None = None,
                 target_branch: str = "main") -> dict[str, str]:
    """Predefined variables of a job the GitLab stand-in knows (a `tests.fakes.gitlab_support.Job`)."""
    variables = {
        "CI_JOB_ID": str(job.id), "CI_JOB_TOKEN": job.token, "CI_PIPELINE_ID": str(job.pipeline_id),
        "CI_PROJECT_ID": str(job.project_id), "CI_PROJECT_NAME": project_name, "CI_COMMIT_SHA": job.sha,
        "CI_COMMIT_REF_NAME": source_branch or job.ref, "CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push",
    }
    if mr_iid is not None:
        variables.update(CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID=str(mr_iid),
                         CI_MERGE_REQUEST_TARGET_BRANCH_NAME=target_branch,
                         CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=source_branch or job.ref)
    return variables


class LocalPipeline:
    def __init__(self, tools: NodeTools, root: Path, ci_config: dict | str, files: dict[str, str] | None = None):
        self.tools, self.root = tools, root
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(TEMPLATES, root / "templates", dirs_exist_ok=True)
        text = ci_config if isinstance(ci_config, str) else yaml.safe_dump(ci_config, sort_keys=False)
        (root / ".gitlab-ci.yml").write_text(text)
        for name, content in (files or {}).items():
            (root / name).write_text(content)
        for args in (["init", "-q", "-b", "main"], ["config", "user.name", "ci"],
                     ["config", "user.email", "ci@example.com"], ["add", "-A"], ["commit", "-q", "-m", "init"],
                     ["remote", "add", "origin", "https://gitlab.example.com/group/churn-model.git"],
                     ["update-ref", "refs/remotes/origin/main", "HEAD"],
                     ["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"]):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
        (root / "home").mkdir(exist_ok=True)

    def _environment(self) -> dict[str, str]:
        """Nothing of the test process leaks into the jobs: no MLFLOW_*, CI_*, MLTRACKER_*."""
        path = os.pathsep.join([str(Path(sys.executable).parent), str(self.tools.node.parent), "/usr/local/bin",
                                "/usr/bin", "/bin"])
        return {"PATH": path, "HOME": str(self.root / "home"), "LANG": "C.UTF-8"}

    def _gitlab_ci_local(self, *args: str, project_variables: dict[str, str] | None = None,
                         variables: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        # Project CI/CD variables go where gitlab-ci-local reads them (`--variables-file`), with the
        # precedence GitLab gives project variables over the configuration's `variables:`.
        variables_file = self.root / "home" / "project-variables.yml"
        variables_file.write_text(yaml.safe_dump(project_variables or {}))
        command = self.tools.command(
            "--variables-file", str(variables_file.relative_to(self.root)), "--home", str(self.root / "home"),
            "--no-color", "--force-shell-executor", "--ignore-predefined-vars", ",".join(dict.fromkeys([*PREDEFINED, *(variables or {})])),
            *[f"--variable={k}={v}" for k, v in (variables or {}).items()], *args,
        )
        return subprocess.run(command, cwd=self.root, env=self._environment(), capture_output=True, text=True,
                              timeout=timeout)

    def run(self, job: str, *, identity: dict[str, str], project_variables: dict[str, str] | None = None,
            extra: dict[str, str] | None = None) -> JobRun:
        result = self._gitlab_ci_local(job, "--no-json-schema-validation", project_variables=project_variables,
                                       variables={**identity, **(extra or {})})
        return JobRun(result.returncode, result.stdout + result.stderr, job)

    def listing(self, variables: dict[str, str] | None = None) -> dict[str, dict]:
        """The jobs a pipeline with these variables would have (after `rules:`), by name."""
        result = self._gitlab_ci_local("--list-json", variables=variables)
        assert result.returncode == 0, result.stdout + result.stderr
        listing = json.loads(result.stdout[result.stdout.index("\n[") if not result.stdout.startswith("[") else 0:])
        return {job["name"]: job for job in listing if job.get("when") != "never"}

    def jobs(self, variables: dict[str, str] | None = None) -> set[str]:
        return set(self.listing(variables))

    def preview(self) -> subprocess.CompletedProcess:
        """The configuration with includes, inputs and `extends:` expanded, as gitlab-ci-local sees it."""
        return self._gitlab_ci_local("--preview")
