"""The CI/CD components: parsed and interpolated as GitLab does, then their jobs run with a CI-like
environment against a live mltracker in GitLab mode."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from ci_sim import (
    CiConfigError,
    ci_environment,
    clean_os_environment,
    job_variables,
    load_component,
    merge_configs,
    resolve_job,
    run_script,
)
from gitlab_support import DEVELOPER, link_row

REPO = Path(__file__).resolve().parents[2]
TRACKING = REPO / "ci_templates" / "tracking.yml"
GATE = REPO / "ci_templates" / "gate.yml"
TRAIN = Path(__file__).parent / "train.py"
SERVER = "https://mltracker.example.com"


def _predefined(**overrides) -> dict:
    base = dict(server_project_id=42, project_name="churn-model", job_id=7, job_token="glcbt-secret", pipeline_id=9,
                sha="a" * 40, ref="main")
    base.update(overrides)
    return ci_environment(**base)


# ---------------------------------------------------------------- parsing and interpolation

def test_tracking_component_sets_the_variables_for_every_job():
    spec, body = load_component(TRACKING, {"server_url": SERVER})
    assert set(spec["inputs"]) == {"server_url", "experiment_name"}
    user_config = {"train": {"stage": "train", "script": ["python train.py"]}}
    config = merge_configs(body, user_config)
    variables = job_variables(config, "train", _predefined())
    assert variables == {
        "MLFLOW_TRACKING_URI": f"{SERVER}/projects/42",
        "MLFLOW_TRACKING_TOKEN": "glcbt-secret",
        "MLFLOW_EXPERIMENT_NAME": "churn-model",
    }


def test_tracking_component_inputs_and_hidden_job():
    _, body = load_component(TRACKING, {"server_url": SERVER, "experiment_name": "nightly"})
    assert ".mltracker" in body
    config = merge_configs(body, {"tune": {"extends": ".mltracker", "inherit": {"variables": False},
                                           "variables": {"EPOCHS": "3"}, "script": ["true"]}})
    variables = job_variables(config, "tune", _predefined())
    assert variables["MLFLOW_EXPERIMENT_NAME"] == "nightly"
    assert variables["MLFLOW_TRACKING_URI"] == f"{SERVER}/projects/42"
    assert variables["EPOCHS"] == "3"


@pytest.mark.parametrize("inputs, error", [
    ({}, "required value has not been provided"),
    ({"server_url": SERVER, "colour": "red"}, "unknown input"),
    ({"server_url": "mltracker.example.com"}, "RegEx"),
    ({"server_url": SERVER + "/"}, "RegEx"),
])
def test_tracking_component_refuses_bad_inputs(inputs, error):
    with pytest.raises(CiConfigError, match=error):
        load_component(TRACKING, inputs)


def test_gate_component_defaults_and_options():
    spec, body = load_component(GATE, {"server_url": SERVER, "metric": "val_loss"})
    job = resolve_job(body, "mltracker-gate")
    assert job["stage"] == ".post"
    assert job["image"] == {"name": "curlimages/curl:8.11.1", "entrypoint": [""]}
    variables = job_variables(body, "mltracker-gate", _predefined())
    assert variables["MLTRACKER_GATE_URL"] == f"{SERVER}/projects/42/api/mltracker/gate"
    assert variables["MLTRACKER_GATE_DIRECTION"] == "minimize"
    assert variables["MLTRACKER_GATE_EXPERIMENT"] == "churn-model"
    _, body = load_component(GATE, {"server_url": SERVER, "metric": "auc", "direction": "maximize",
                                    "job_name": "auc-gate", "stage": "evaluate", "max_regression": "2%"})
    assert resolve_job(body, "auc-gate")["stage"] == "evaluate"
    with pytest.raises(CiConfigError, match="allowed options"):
        load_component(GATE, {"server_url": SERVER, "metric": "auc", "direction": "sideways"})
    with pytest.raises(CiConfigError, match="metric"):
        load_component(GATE, {"server_url": SERVER})


# ---------------------------------------------------------------- jobs run against a live server

def _run_training(server, scenario_job, project_name: str, tmp_path: Path, val_loss: float, mr=None) -> dict:
    _, body = load_component(TRACKING, {"server_url": server.url})
    config = merge_configs(body, {"train": {"stage": "train", "script": [f"{sys.executable} train.py"]}})
    predefined = _predefined(server_project_id=scenario_job.project_id, project_name=project_name,
                             job_id=scenario_job.id, job_token=scenario_job.token,
                             pipeline_id=scenario_job.pipeline_id, sha=scenario_job.sha,
                             ref=mr[1] if mr else scenario_job.ref,
                             mr_iid=mr[0] if mr else None, mr_target="main" if mr else None)
    env = {**clean_os_environment(), **predefined, **job_variables(config, "train", predefined),
           "VAL_LOSS": str(val_loss), "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    shutil.copy(TRAIN, tmp_path / "train.py")
    result = run_script(resolve_job(config, "train"), env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _run_gate(server, scenario_job, project_name: str, tmp_path: Path, inputs: dict, mr_target="main"):
    _, body = load_component(GATE, {"server_url": server.url, **inputs})
    predefined = _predefined(server_project_id=scenario_job.project_id, project_name=project_name,
                             job_id=scenario_job.id, job_token=scenario_job.token,
                             pipeline_id=scenario_job.pipeline_id, sha=scenario_job.sha, ref=scenario_job.ref,
                             mr_iid=1 if mr_target else None, mr_target=mr_target)
    env = {**clean_os_environment(), **predefined, **job_variables(body, "mltracker-gate", predefined)}
    return run_script(resolve_job(body, "mltracker-gate"), env, tmp_path)


@pytest.fixture
def ml_project(scenario):
    user = scenario.user("ds")
    name = f"churn-{user.id}"
    project = scenario.project(members={user: DEVELOPER}, name=name)
    return scenario, user, project, name


def test_training_job_logs_a_linked_candidate(gitlab_server, ml_project, tmp_path, client_as):
    scenario, user, project, name = ml_project
    job = scenario.job(project, user, ref="refs/merge-requests/11/head")
    scenario.fake.add_merge_request(project_id=project, iid=11, source_branch="better-features", shas=[job.sha])
    out = _run_training(gitlab_server, job, name, tmp_path, 0.25, mr=(11, "better-features"))

    client = client_as(user.token, project)
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None and experiment.experiment_id == out["experiment_id"]
    run = client.get_run(out["run_id"])
    assert run.data.metrics["val_loss"] == pytest.approx(0.25)
    assert {k: v for k, v in run.data.tags.items() if k.startswith("gitlab.")} == {
        "gitlab.CI_JOB_ID": str(job.id), "gitlab.CI_PIPELINE_ID": str(job.pipeline_id),
        "gitlab.CI_COMMIT_SHA": job.sha, "gitlab.CI_COMMIT_REF_NAME": "better-features",
        "gitlab.CI_MERGE_REQUEST_IID": "11", "gitlab.user": user.username,
    }
    row = link_row(gitlab_server, out["run_id"])
    assert (row.project_id, row.job_id, row.pipeline_id, row.merge_request_iid) == (project, job.id, job.pipeline_id, 11)
    # The candidate is in this project only.
    other_user = scenario.user("other")
    other = scenario.project(members={other_user: DEVELOPER}, name=name)
    assert MlflowClient.get_experiment_by_name(client_as(other_user.token, other), name) is None


def test_gate_job_fails_a_regressing_pipeline_and_passes_an_improving_one(gitlab_server, ml_project, tmp_path):
    scenario, user, project, name = ml_project
    inputs = {"metric": "val_loss", "max_regression": "5%"}

    # No baseline yet: passes, saying so.
    first = scenario.job(project, user, ref="main")
    _run_training(gitlab_server, first, name, tmp_path, 0.40)
    gate_job = scenario.job(project, user, pipeline_id=first.pipeline_id, ref="main")
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, inputs, mr_target=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS") and "no baseline" in result.stdout

    # The target branch's latest pipeline: two candidates, best 0.30.
    main_job = scenario.job(project, user, ref="main")
    _run_training(gitlab_server, main_job, name, tmp_path, 0.30)
    second = scenario.job(project, user, pipeline_id=main_job.pipeline_id, ref="main")
    _run_training(gitlab_server, second, name, tmp_path, 0.35)

    # A merge request pipeline that regresses by 20 %: the gate job fails with a readable summary.
    bad = scenario.job(project, user, ref="refs/merge-requests/1/head")
    _run_training(gitlab_server, bad, name, tmp_path, 0.36)
    gate_job = scenario.job(project, user, pipeline_id=bad.pipeline_id, ref="refs/merge-requests/1/head")
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, inputs)
    assert result.returncode != 0
    assert result.stdout.startswith("FAIL: best 'val_loss' is 20.00% worse than the baseline on 'main'"), result.stdout
    assert "0.36" in result.stdout and "0.3 " in result.stdout and f"pipeline {main_job.pipeline_id}" in result.stdout
    assert (tmp_path / "mltracker-gate.txt").read_text() == result.stdout

    # Within the allowed regression (+3.3 %): passes.
    close = scenario.job(project, user, ref="refs/merge-requests/1/head")
    _run_training(gitlab_server, close, name, tmp_path, 0.31)
    gate_job = scenario.job(project, user, pipeline_id=close.pipeline_id, ref="refs/merge-requests/1/head")
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, inputs)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("PASS: best 'val_loss' is 3.33% worse")

    # An improving pipeline passes.
    good = scenario.job(project, user, ref="refs/merge-requests/1/head")
    _run_training(gitlab_server, good, name, tmp_path, 0.20)
    gate_job = scenario.job(project, user, pipeline_id=good.pipeline_id, ref="refs/merge-requests/1/head")
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, {"metric": "val_loss"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS: best 'val_loss' is 33.33% better than the baseline on 'main'")

    # Maximising the same metric turns the improvement into a regression.
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, {"metric": "val_loss", "direction": "maximize"})
    assert result.returncode != 0 and result.stdout.startswith("FAIL")


def test_gate_job_without_candidates_fails(gitlab_server, ml_project, tmp_path):
    scenario, user, project, name = ml_project
    gate_job = scenario.job(project, user, ref="main")
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, {"metric": "val_loss"})
    assert result.returncode != 0
    assert result.stdout.startswith("FAIL:")


def test_gate_job_with_a_finished_job_token_reports_the_server_error(gitlab_server, ml_project, tmp_path):
    scenario, user, project, name = ml_project
    gate_job = scenario.job(project, user, ref="main", status="success")
    result = _run_gate(gitlab_server, gate_job, name, tmp_path, {"metric": "val_loss"})
    assert result.returncode == 2
    assert "UNAUTHENTICATED" in result.stdout and "could not answer" in result.stdout
