"""ci_templates/tracking.yml run by gitlab-ci-local against a live mltracker in GitLab mode: a job
gets the right MLflow environment whatever project variables say, and its candidate is linked."""
from __future__ import annotations

import json
import socket

import pytest
from mlflow import MlflowClient

from tests.fakes.gitlab_support import DEVELOPER, link_row
from tests.ci_templates.local_pipeline import LocalPipeline, job_identity

TRAIN = (__import__("pathlib").Path(__file__).parent / "train.py").read_text()


def _config(server_url: str, **jobs) -> dict:
    return {
        "include": [{"local": "templates/tracking.yml", "inputs": {"server_url": server_url}}],
        "stages": ["train"],
        **(jobs or {"train": {"stage": "train", "script": ["python train.py"]}}),
    }


def _result(run) -> dict:
    assert run.passed, run.output
    return json.loads(run.log()[-1])


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def project(scenario):
    user = scenario.user("ds")
    name = f"churn-{user.id}"
    return scenario, user, scenario.project(members={user: DEVELOPER}, name=name), name


def _client(server, token: str, project_id: int, monkeypatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    return MlflowClient(tracking_uri=f"{server.url}/projects/{project_id}")


def test_a_merge_request_job_logs_a_linked_candidate(node_tools, gitlab_server, project, tmp_path, monkeypatch):
    scenario, user, project_id, name = project
    job = scenario.job(project_id, user, ref="refs/merge-requests/11/head")
    scenario.fake.add_merge_request(project_id=project_id, iid=11, source_branch="better-features", shas=[job.sha])
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", _config(gitlab_server.url), {"train.py": TRAIN})

    run = pipeline.run("train", identity=job_identity(job, name, mr_iid=11, source_branch="better-features"),
                       extra={"VALUE": "0.25"})
    out = _result(run)
    assert f"mltracker: MLFLOW_TRACKING_URI={gitlab_server.url}/projects/{project_id} MLFLOW_EXPERIMENT_NAME={name}" \
        " (token: this job's CI_JOB_TOKEN)" in run.log()
    assert job.token not in run.output

    client = _client(gitlab_server, user.token, project_id, monkeypatch)
    assert client.get_experiment_by_name(name).experiment_id == out["experiment_id"]
    candidate = client.get_run(out["run_id"])
    assert candidate.data.metrics["val_loss"] == pytest.approx(0.25)
    assert {k: v for k, v in candidate.data.tags.items() if k.startswith("gitlab.")} == {
        "gitlab.CI_JOB_ID": str(job.id), "gitlab.CI_PIPELINE_ID": str(job.pipeline_id),
        "gitlab.CI_COMMIT_SHA": job.sha, "gitlab.CI_COMMIT_REF_NAME": "better-features",
        "gitlab.CI_MERGE_REQUEST_IID": "11", "gitlab.user": user.username,
    }
    row = link_row(gitlab_server, out["run_id"])
    assert (row.project_id, row.job_id, row.pipeline_id, row.merge_request_iid) == (project_id, job.id,
                                                                                   job.pipeline_id, 11)


def test_project_variables_of_another_server_do_not_win(node_tools, gitlab_server, project, tmp_path, monkeypatch):
    """GitLab's MLflow docs tell users to create MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN as
    project variables; those take precedence over any `variables:` in the configuration."""
    scenario, user, project_id, name = project
    job = scenario.job(project_id, user, ref="main")
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", _config(gitlab_server.url), {"train.py": TRAIN})
    old = {"MLFLOW_TRACKING_URI": _dead_url(), "MLFLOW_TRACKING_TOKEN": "glpat-old-server-secret",
           "MLFLOW_TRACKING_USERNAME": "old-user", "MLFLOW_TRACKING_PASSWORD": "old-password-secret"}

    run = pipeline.run("train", identity=job_identity(job, name), project_variables=old,
                       extra={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    out = _result(run)
    log = "\n".join(run.log())
    assert "MLFLOW_TRACKING_URI was set elsewhere" in log and "MLFLOW_TRACKING_TOKEN was set elsewhere" in log
    assert "unsetting MLFLOW_TRACKING_USERNAME/PASSWORD" in log
    for secret in (job.token, "glpat-old-server-secret", "old-password-secret"):
        assert secret not in run.output
    assert _client(gitlab_server, user.token, project_id, monkeypatch).get_run(out["run_id"]).info.run_id \
        == out["run_id"]
    assert link_row(gitlab_server, out["run_id"]).job_id == job.id


def test_server_url_may_be_a_variable(node_tools, gitlab_server, project, tmp_path, monkeypatch):
    scenario, user, project_id, name = project
    job = scenario.job(project_id, user, ref="main")
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", _config("$MLTRACKER_URL"), {"train.py": TRAIN})
    # A trailing slash in the variable's value is harmless.
    run = pipeline.run("train", identity=job_identity(job, name),
                       project_variables={"MLTRACKER_URL": gitlab_server.url + "/"})
    out = _result(run)
    assert f"mltracker: MLFLOW_TRACKING_URI={gitlab_server.url}/projects/{project_id} " in run.output
    assert link_row(gitlab_server, out["run_id"]).job_id == job.id


def test_jobs_with_their_own_before_script_or_without_global_variables(node_tools, gitlab_server, project, tmp_path):
    scenario, user, project_id, name = project
    config = f"""
include:
  - local: templates/tracking.yml
    inputs:
      server_url: {gitlab_server.url}
      experiment_name: nightly
stages: [train]
prepare:
  stage: train
  before_script:
    - !reference [.mltracker, before_script]
    - echo "own before_script"
  script: python train.py
tune:
  stage: train
  extends: .mltracker
  inherit:
    variables: false
  script: python train.py
"""
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", config, {"train.py": TRAIN})
    for job_name in ("prepare", "tune"):
        job = scenario.job(project_id, user, ref="main")
        run = pipeline.run(job_name, identity=job_identity(job, name))
        out = _result(run)
        assert "own before_script" in run.log() or job_name == "tune"
        assert f"MLFLOW_TRACKING_URI={gitlab_server.url}/projects/{project_id} MLFLOW_EXPERIMENT_NAME=nightly" \
            in run.output
        assert link_row(gitlab_server, out["run_id"]).job_id == job.id


@pytest.mark.parametrize("server_url", ["mltracker.example.com", "https://mltracker.example.com/",
                                        "https://ml.example.com\"; rm -rf /", "$1"])
def test_bad_server_urls_are_refused_when_the_pipeline_is_created(node_tools, tmp_path, server_url):
    pipeline = LocalPipeline(node_tools, tmp_path / "repo", _config(server_url))
    preview = pipeline.preview()
    assert preview.returncode != 0
    assert "`server_url` input" in preview.stdout + preview.stderr and "regex" in preview.stdout + preview.stderr
