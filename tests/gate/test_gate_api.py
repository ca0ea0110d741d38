"""The gate endpoint's JSON shape, its parameters and its access rule (read)."""
from __future__ import annotations

import os

import requests

from tests.fakes.gitlab_support import DEVELOPER, GUEST, REPORTER, bearer


def _gate(server, project, token, **params):
    return requests.get(f"{server.url}/projects/{project}/api/mltracker/gate", params=params,
                        headers=bearer(token), timeout=30)


def test_gate_json(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    reporter = scenario.user("rep")
    project = scenario.project(members={user: DEVELOPER, reporter: REPORTER})
    base_job = scenario.job(project, user, ref="main")
    client = client_as(base_job.token, project)
    experiment_id = client.create_experiment("gate-json")
    for value in (0.5, 0.4):
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "auc", value)
    job = scenario.job(project, user, ref="feature")
    client = client_as(job.token, project)
    run = client.create_run(experiment_id, run_name="cand")
    client.log_metric(run.info.run_id, "auc", 0.45)

    response = _gate(gitlab_server, project, reporter.token, pipeline_id=job.pipeline_id, metric="auc",
                     direction="maximize", max_regression="5%", target_ref="main", experiment="gate-json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "failed" and body["passed"] is False
    assert body["candidate"]["run_id"] == run.info.run_id and body["candidate"]["value"] == 0.45
    assert body["candidate"]["job_id"] == job.id and body["candidate"]["pipeline_id"] == job.pipeline_id
    assert body["baseline"]["value"] == 0.5 and body["baseline"]["pipeline_id"] == base_job.pipeline_id
    assert abs(body["regression"] - 0.1) < 1e-9 and body["max_regression"] == 0.05
    assert len(body["candidates"]) == 1 and len(body["baseline_candidates"]) == 2
    assert body["summary"].startswith("FAIL")

    # experiment by id, or inferred from the pipeline's candidates
    for extra in ({"experiment": experiment_id}, {}):
        body = _gate(gitlab_server, project, reporter.token, pipeline_id=job.pipeline_id, metric="auc",
                     direction="maximize", max_regression="0.2", target_ref="main", **extra).json()
        assert body["status"] == "passed" and body["experiment"] == "gate-json"

    # No direction: `auc` is higher-is-better by its name, as in the merge request report.
    text = _gate(gitlab_server, project, reporter.token, pipeline_id=job.pipeline_id, metric="auc",
                 target_ref="main", format="text")
    assert text.headers["Content-Type"].startswith("text/plain")
    assert text.text.startswith("FAIL: best 'auc' is 10.00% worse"), text.text
    assert "auc (higher is better)" in text.text
    body = _gate(gitlab_server, project, reporter.token, pipeline_id=job.pipeline_id, metric="auc",
                 target_ref="main", direction="minimize").json()
    assert body["direction"] == "minimize" and body["baseline"]["value"] == 0.4 and body["status"] == "failed"

    missing = _gate(gitlab_server, project, reporter.token, metric="auc", target_ref="main")
    assert missing.status_code == 400 and missing.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    bad = _gate(gitlab_server, project, reporter.token, pipeline_id=1, metric="auc", target_ref="main",
                direction="up")
    assert bad.status_code == 400
    unknown = _gate(gitlab_server, project, reporter.token, pipeline_id=job.pipeline_id, metric="auc",
                    target_ref="main", experiment="nope").json()
    assert unknown["status"] == "no_candidates" and "not found" in unknown["summary"]
    assert unknown["passed"] is True and unknown["summary"].startswith("PASS (warning)")
    strict = _gate(gitlab_server, project, reporter.token, pipeline_id=job.pipeline_id, metric="auc",
                   target_ref="main", experiment="nope", no_candidates="fail").json()
    assert strict["passed"] is False and strict["summary"].startswith("FAIL")
    bad = _gate(gitlab_server, project, reporter.token, pipeline_id=1, metric="auc", target_ref="main",
                no_candidates="maybe")
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_gate_needs_read_access(gitlab_server, scenario):
    guest = scenario.user("guest")
    project = scenario.project(members={guest: GUEST})
    response = _gate(gitlab_server, project, guest.token, pipeline_id=1, metric="auc", target_ref="main")
    assert response.status_code == 403
    response = requests.get(f"{gitlab_server.url}/projects/{project}/api/mltracker/gate", timeout=30)
    assert response.status_code == 401


def test_gate_command_line(gitlab_server, scenario, client_as, tmp_path):
    import subprocess
    import sys

    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    base_job = scenario.job(project, user, ref="main")
    client = client_as(base_job.token, project)
    experiment_id = client.create_experiment("gate-cli")
    base_run = client.create_run(experiment_id).info.run_id
    client.log_metric(base_run, "loss", 1.0)
    client.log_metric(base_run, "acc", 0.9)
    job = scenario.job(project, user, ref="feature")
    client = client_as(job.token, project)
    run = client.create_run(experiment_id).info.run_id
    client.log_metric(run, "loss", 1.5)
    client.log_metric(run, "acc", 0.8)

    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRACKER_", "CI_"))},
           "MLFLOW_TRACKING_URI": f"{gitlab_server.url}/projects/{project}",
           "MLFLOW_TRACKING_TOKEN": job.token, "MLFLOW_EXPERIMENT_NAME": "gate-cli",
           "CI_PIPELINE_ID": str(job.pipeline_id), "CI_DEFAULT_BRANCH": "main"}

    def gate(*args):
        return subprocess.run([sys.executable, "-m", "mltracker.service.cli", "gate", "--metric", "loss", *args],
                              env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)

    result = gate()
    assert result.returncode == 1 and result.stdout.startswith("FAIL: best 'loss' is 50.00% worse"), result
    assert gate("--max-regression", "60%").returncode == 0
    # No --direction: `acc` is higher-is-better, as the merge request report sees it.
    result = gate("--metric", "acc")
    assert result.returncode == 1 and "acc (higher is better)" in result.stdout, result
    assert gate("--metric", "acc", "--direction", "minimize").returncode == 0
    env["CI_PIPELINE_ID"] = str(scenario.job(project, user, ref="feature").pipeline_id)  # trained nothing
    result = gate()
    assert result.returncode == 0 and result.stdout.startswith("PASS (warning)"), result
    assert gate("--no-candidates", "fail").returncode == 1
    env["MLFLOW_TRACKING_TOKEN"] = "glpat-wrong"
    result = gate()
    assert result.returncode == 2 and "401" in result.stdout
