"""MLflow's UI records a Prompt Lab try as a run (`runs/create-promptlab-run`): the same run, params,
tags and evaluation table on both servers."""
from __future__ import annotations

import json
import uuid

import pytest
import requests
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e
URL = "/ajax-api/2.0/mlflow/runs/create-promptlab-run"
TRY = {
    "run_name": "my_run_name", "prompt_template": "Say {{ word }}",
    "prompt_parameters": [{"key": "word", "value": "hello"}], "model_route": "my_route",
    "model_parameters": [{"key": "temperature", "value": "0.1"}], "model_input": "Say hello",
    "model_output": "hello", "model_output_parameters": [{"key": "latency", "value": "100"}],
    "mlflow_version": "3.17.2", "user_id": "someone", "start_time": 456,
}


def test_a_prompt_lab_try_is_recorded(side_by_side):
    client = MlflowClient(side_by_side.url)
    experiment_id = client.create_experiment(f"promptlab-{uuid.uuid4().hex[:8]}")
    response = requests.post(side_by_side.url + URL, json={**TRY, "experiment_id": experiment_id}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    info = response.json()["run"]["info"]
    assert (info["run_name"], info["experiment_id"], info["user_id"], info["status"], info["start_time"]) == (
        "my_run_name", experiment_id, "someone", "FINISHED", 456)
    run = client.get_run(info["run_id"])
    assert run.data.params == {"temperature": "0.1", "model_route": "my_route", "prompt_template": "Say {{ word }}"}
    assert run.data.tags["mlflow.runSourceType"] == "PROMPT_ENGINEERING"
    assert json.loads(run.data.tags["mlflow.loggedArtifacts"]) == [{"path": "eval_results_table.json",
                                                                   "type": "table"}]
    table = requests.get(side_by_side.url + "/get-artifact", timeout=30,
                         params={"run_id": info["run_id"], "path": "eval_results_table.json"})
    assert table.json() == {"columns": ["word", "prompt", "output", "latency"],
                            "data": [["hello", "Say hello", "hello", "100"]]}


@pytest.mark.parametrize("missing", ["experiment_id", "prompt_template", "prompt_parameters", "model_route",
                                     "model_input", "mlflow_version"])
def test_each_required_field(side_by_side, missing):
    body = {**TRY, "experiment_id": "0"}
    del body[missing]
    response = requests.post(side_by_side.url + URL, json=body, timeout=30)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json()["message"] == f"CreatePromptlabRun request must specify {missing}."
