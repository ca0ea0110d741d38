"""ci_templates/gate.yml run by gitlab-ci-local against a live mltracker in GitLab mode: the gate
job passes and fails as it should. Candidates are logged with the stock MLflow client and each
training job's own token (the tracking component's runs are tested in test_tracking_component.py)."""
from __future__ import annotations

import pytest
from mlflow import MlflowClient

from tests.fakes.gitlab_support import DEVELOPER
from tests.ci_templates.local_pipeline import LocalPipeline, job_identity


def _config(inputs: dict) -> dict:
    return {
        "include": [{"local": "templates/gate.yml", "inputs": inputs}],
        "stages": ["train"],
        "train": {"stage": "train", "script": ["echo training"]},
    }


class GateProject:
    def __init__(self, scenario, server, node_tools, root, monkeypatch):
        self.scenario, self.server, self.tools, self.root = scenario, server, node_tools, root
        self.user = scenario.user("ds")
        self.name = f"churn-{self.user.id}"
        self.project_id = scenario.project(members={self.user: DEVELOPER}, name=self.name)
        self.monkeypatch = monkeypatch
        self.runs = 0

    def train(self, pipeline_id: int | None, metric: str, value: float, ref: str = "main"):
        """A training job of pipeline `pipeline_id` (new when None) logging one candidate; its job."""
        job = self.scenario.job(self.project_id, self.user, pipeline_id=pipeline_id, ref=ref)
        self.monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", job.token)
        self.monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        client = MlflowClient(tracking_uri=f"{self.server.url}/projects/{self.project_id}")
        experiment = client.get_experiment_by_name(self.name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(self.name)
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, metric, value)
        client.set_terminated(run.info.run_id)
        return job

    def gate(self, pipeline_id: int, inputs: dict, mr: bool = True, status: str = "running"):
        ref = "refs/merge-requests/1/head" if mr else "main"
        job = self.scenario.job(self.project_id, self.user, pipeline_id=pipeline_id, ref=ref, status=status)
        self.runs += 1
        pipeline = LocalPipeline(self.tools, self.root / f"repo-{self.runs}",
                                 _config({"server_url": self.server.url, **inputs}))
        identity = job_identity(job, self.name, mr_iid=1 if mr else None, source_branch="feature" if mr else None)
        run = pipeline.run("mltracker-gate", identity=identity)
        summary = (pipeline.root / "mltracker-gate.txt")
        return run, summary.read_text() if summary.exists() else ""


@pytest.fixture
def gate_project(scenario, gitlab_server, node_tools, tmp_path, monkeypatch):
    return GateProject(scenario, gitlab_server, node_tools, tmp_path, monkeypatch)


def test_gate_fails_a_regressing_pipeline_and_passes_an_improving_one(gate_project):
    p = gate_project
    inputs = {"metric": "val_loss", "max_regression": "5%"}

    first = p.train(None, "val_loss", 0.40)
    run, summary = p.gate(first.pipeline_id, inputs, mr=False)
    assert run.passed, run.output
    assert summary.startswith("PASS: no baseline on 'main'")

    main = p.train(None, "val_loss", 0.30)
    p.train(main.pipeline_id, "val_loss", 0.35)

    bad = p.train(None, "val_loss", 0.36, ref="refs/merge-requests/1/head")
    run, summary = p.gate(bad.pipeline_id, inputs)
    assert not run.passed and run.returncode != 0
    assert summary.startswith("FAIL: best 'val_loss' is 20.00% worse than the baseline on 'main'"), summary
    assert "val_loss (lower is better)" in summary and f"pipeline {main.pipeline_id}" in summary
    assert summary.splitlines()[0] in run.log()

    close = p.train(None, "val_loss", 0.31, ref="refs/merge-requests/1/head")
    run, summary = p.gate(close.pipeline_id, inputs)
    assert run.passed, run.output
    assert summary.startswith("PASS: best 'val_loss' is 3.33% worse")

    good = p.train(None, "val_loss", 0.20, ref="refs/merge-requests/1/head")
    run, summary = p.gate(good.pipeline_id, {"metric": "val_loss"})
    assert run.passed and summary.startswith("PASS: best 'val_loss' is 33.33% better"), summary
    run, summary = p.gate(good.pipeline_id, {"metric": "val_loss", "direction": "maximize"})
    assert not run.passed and summary.startswith("FAIL"), summary


def test_without_a_direction_the_gate_judges_like_the_report(gate_project):
    """`val_acc` is higher-is-better by its name; the merge request report calls a drop a regression."""
    p = gate_project
    main = p.train(None, "val_acc", 0.90)
    mine = p.train(None, "val_acc", 0.85, ref="refs/merge-requests/1/head")
    run, summary = p.gate(mine.pipeline_id, {"metric": "val_acc"})
    assert not run.passed and summary.startswith("FAIL: best 'val_acc' is 5.56% worse"), summary
    assert "val_acc (higher is better)" in summary and f"pipeline {main.pipeline_id}" in summary


def test_a_pipeline_that_trained_nothing_passes_with_a_warning_unless_told_otherwise(gate_project):
    p = gate_project
    p.train(None, "val_loss", 0.30)
    docs_only = p.scenario.job(p.project_id, p.user, ref="refs/merge-requests/1/head")
    run, summary = p.gate(docs_only.pipeline_id, {"metric": "val_loss"})
    assert run.passed, run.output
    assert summary.startswith(f"PASS (warning): pipeline {docs_only.pipeline_id} produced no candidates")
    run, summary = p.gate(docs_only.pipeline_id, {"metric": "val_loss", "no_candidates": "fail"})
    assert not run.passed and summary.startswith("FAIL: pipeline"), summary


def test_the_gate_runs_only_where_its_rules_say(node_tools, tmp_path):
    training_rules = [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
                      {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "changes": ["model/**/*"]}]
    config = _config({"server_url": "https://ml.example.com", "metric": "val_loss", "rules": training_rules})
    config["train"]["rules"] = training_rules
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", config)
    assert pipeline.jobs({"CI_PIPELINE_SOURCE": "merge_request_event"}) == {"train", "mltracker-gate"}
    assert pipeline.jobs({"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "docs"}) == set()
    default = LocalPipeline(node_tools, tmp_path / "default",
                            _config({"server_url": "https://ml.example.com", "metric": "val_loss"}))
    assert default.jobs({"CI_PIPELINE_SOURCE": "push"}) == {"train", "mltracker-gate"}


def test_the_gate_job_takes_needs_from_the_including_pipeline(node_tools, tmp_path):
    """A job of the same name in the including file is merged into the component's job."""
    config = _config({"server_url": "https://ml.example.com", "metric": "val_loss"})
    config["mltracker-gate"] = {"needs": [{"job": "train", "optional": True}]}
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", config)
    gate = pipeline.listing({"CI_PIPELINE_SOURCE": "push"})["mltracker-gate"]
    assert [n["job"] for n in gate["needs"]] == ["train"] and gate["stage"] == ".post"


def test_a_finished_job_token_fails_the_job_with_the_server_error(gate_project):
    p = gate_project
    run, _ = p.gate(p.scenario.job(p.project_id, p.user).pipeline_id, {"metric": "val_loss"}, status="success")
    assert run.returncode != 0
    log = "\n".join(run.log())
    assert "UNAUTHENTICATED" in log and "could not answer" in log
