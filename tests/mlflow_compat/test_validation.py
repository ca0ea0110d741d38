"""Request validation with MLflow's exact messages, side by side on `mlflow server` and mltracker."""
from __future__ import annotations

import json
import uuid

import pytest
import requests
from mlflow.exceptions import MlflowException

pytestmark = pytest.mark.e2e

API = "/api/2.0/mlflow"
HINT = " See the API docs for more information about request parameters."


def _type(name: str, shown: str, type_name: str) -> str:
    return f"Invalid value {shown} for parameter '{name}' supplied:  Hint: Value was of type '{type_name}'.{HINT}"


def _missing(name: str) -> str:
    return f"Missing value for required parameter '{name}'.{HINT}"


def post(server, path: str, payload: dict) -> requests.Response:
    return requests.post(server.url + API + path, data=json.dumps(payload),
                         headers={"Content-Type": "application/json"}, timeout=30)


@pytest.fixture
def run_id(any_client):
    experiment_id = any_client.create_experiment(f"validation-{uuid.uuid4().hex[:8]}")
    return any_client.create_run(experiment_id).info.run_id


EXPERIMENT_CASES = [
    ({"name": 123}, _type("name", "123", "int")),
    ({}, _missing("name")),
    ({"name": "x", "artifact_location": 9.0, "tags": [{"key": "k", "value": "v"}]},
     _type("artifact_location", "9.0", "float")),
    ({"name": "x", "artifact_location": "my_location", "tags": "5"}, _type("tags", '"5"', "str")),
]


@pytest.mark.parametrize("payload,message", EXPERIMENT_CASES)
def test_create_experiment_validation(side_by_side, payload, message):
    response = post(side_by_side, "/experiments/create", payload)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json()["message"] == message


METRIC_CASES = [
    ({"run_id": 31, "key": "m", "value": 41, "timestamp": 59, "step": 26}, _type("run_id", "31", "int")),
    ({"key": 31, "value": 41, "timestamp": 59, "step": 26}, _type("key", "31", "int")),
    ({"key": "m", "value": 31, "timestamp": 59, "step": "foo"}, _type("step", '"foo"', "str")),
    ({"key": "m", "value": 31, "timestamp": "foo", "step": 41}, _type("timestamp", '"foo"', "str")),
    ({"key": "m", "value": 31, "step": 41}, _missing("timestamp")),
    ({"key": "m", "timestamp": 5}, _missing("value")),
    ({"key": "m", "value": "abc", "timestamp": 5}, _type("value", '"abc"', "str")),
    ({"run_id": None, "key": "m", "value": 31, "timestamp": 59, "step": 41}, _missing("run_id")),
    ({"value": 31, "timestamp": 59, "step": 41}, _missing("key")),
    ({"key": None, "value": 31, "timestamp": 59, "step": 41}, _missing("key")),
]


@pytest.mark.parametrize("payload,message", METRIC_CASES)
def test_log_metric_validation(side_by_side, any_client, run_id, payload, message):
    response = post(side_by_side, "/runs/log-metric", {"run_id": run_id, **payload})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json()["message"] == message
    assert any_client.get_run(run_id).data.metrics == {}


BATCH_CASES = [
    ({"metrics": [{"key": "a", "value": 1, "step": 0}]}, _missing("metrics[0].timestamp")),
    ({"metrics": [{"key": "a", "value": 1, "timestamp": 1}, {"key": "b", "timestamp": 1}]}, _missing("metrics[1].value")),
    ({"metrics": [{"value": 1, "timestamp": 1}]}, _missing("metrics[0].key")),
    ({"params": [{"key": "p", "value": "1"}, {"value": "2"}]}, _missing("params[1].key")),
    ({"tags": [{"value": "2"}]}, _missing("tags[0].key")),
]


@pytest.mark.parametrize("payload,message", BATCH_CASES)
def test_log_batch_required_fields(side_by_side, any_client, run_id, payload, message):
    response = post(side_by_side, "/runs/log-batch", {"run_id": run_id, **payload})
    assert response.status_code == 400
    assert response.json()["message"] == message
    run = any_client.get_run(run_id)
    assert run.data.metrics == {} and run.data.params == {}


@pytest.mark.parametrize("payload,message", [
    ({"run_id": 31, "key": "p", "value": "41"}, _type("run_id", "31", "int")),
    ({"key": 31, "value": "41"}, _type("key", "31", "int")),
])
def test_log_param_validation(side_by_side, run_id, payload, message):
    response = post(side_by_side, "/runs/log-parameter", {"run_id": run_id, **payload})
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_valid_metric_forms_are_accepted(any_client, side_by_side, run_id):
    for payload in ({"key": "m", "value": "1.5", "timestamp": "12", "step": "3"},
                    {"key": "m", "value": 2, "timestamp": 13}):
        assert post(side_by_side, "/runs/log-metric", {"run_id": run_id, **payload}).status_code == 200
    history = sorted((m.timestamp, m.step, m.value) for m in any_client.get_metric_history(run_id, "m"))
    assert history == [(12, 3, 1.5), (13, 0, 2.0)]


def test_experiment_artifact_location_is_refused_not_ignored(client):
    name = f"located-{uuid.uuid4().hex[:8]}"
    with pytest.raises(MlflowException) as info:
        client.create_experiment(name, artifact_location="s3://somewhere-else/experiments")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "artifact_location 's3://somewhere-else/experiments' cannot be set" in info.value.message
    assert client.get_experiment_by_name(name) is None
    experiment_id = client.create_experiment(name, artifact_location="")
    assert client.get_experiment(experiment_id).artifact_location == f"mlflow-artifacts:/{experiment_id}"
