"""The tracking API's GET /artifacts/list for a run."""
from __future__ import annotations

import pytest

ART = "/api/2.0/mlflow-artifacts"


def create_run(client, prefix="") -> dict:
    if prefix:
        experiment = client.post(f"{prefix}/api/2.0/mlflow/experiments/create", json={"name": "e"}).get_json()
        experiment_id = experiment["experiment_id"]
    else:
        experiment_id = "0"
    response = client.post(f"{prefix}/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    assert response.status_code == 200, response.data
    return response.get_json()["run"]["info"]


def upload_to_run(client, run: dict, relative: str, body: bytes, prefix="") -> None:
    root = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    response = client.put(f"{prefix}{ART}/artifacts/{root}/{relative}", data=body)
    assert response.status_code == 200, response.data


@pytest.mark.parametrize("prefix", ["", "/projects/42"])
def test_list_run_artifacts(client, destination, prefix):
    run = create_run(client, prefix)
    for relative, body in [("model/MLmodel", b"abc"), ("model/data/w.bin", b"12"), ("metrics.json", b"{}")]:
        upload_to_run(client, run, relative, body, prefix)

    for api in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        response = client.get(f"{prefix}{api}/artifacts/list", query_string={"run_id": run["run_id"]})
        assert response.status_code == 200, response.data
        assert response.get_json() == {
            "root_uri": run["artifact_uri"],
            "files": [
                {"path": "metrics.json", "is_dir": False, "file_size": 2},
                {"path": "model", "is_dir": True},
            ],
        }
    response = client.get(f"{prefix}/api/2.0/mlflow/artifacts/list",
                          query_string={"run_uuid": run["run_id"], "path": "model"})
    assert response.get_json()["files"] == [
        {"path": "model/MLmodel", "is_dir": False, "file_size": 3},
        {"path": "model/data", "is_dir": True},
    ]
    response = client.get(f"{prefix}/api/2.0/mlflow/artifacts/list",
                          query_string={"run_id": run["run_id"], "path": "model/data/", "page_token": ""})
    assert response.get_json()["files"] == [{"path": "model/data/w.bin", "is_dir": False, "file_size": 2}]
    expected_key_prefix = "42/" if prefix else "0/"
    assert all(key.startswith(expected_key_prefix) for key in destination.keys())


def test_empty_run(client):
    run = create_run(client)
    response = client.get("/api/2.0/mlflow/artifacts/list", query_string={"run_id": run["run_id"]})
    assert response.get_json() == {"root_uri": run["artifact_uri"], "files": []}


def test_other_projects_run_is_not_found(client):
    run = create_run(client, "/projects/42")
    response = client.get("/projects/7/api/2.0/mlflow/artifacts/list", query_string={"run_id": run["run_id"]})
    assert response.status_code == 404
    assert response.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_unknown_run_and_missing_run_id(client):
    response = client.get("/api/2.0/mlflow/artifacts/list", query_string={"run_id": "0" * 32})
    assert response.status_code == 404
    response = client.get("/api/2.0/mlflow/artifacts/list")
    assert response.status_code == 400
    assert response.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("path", ["..", "../..", "%2e%2e", "/etc", "a/../../..", "..\\.."])
def test_list_traversal_refused(client, path):
    run = create_run(client)
    response = client.get("/api/2.0/mlflow/artifacts/list", query_string={"run_id": run["run_id"], "path": path})
    assert response.status_code == 400
    assert response.get_json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


def test_proxied_root_path():
    from mltracker.service.artifacts.keys import proxied_root_path
    from mltracker.service.errors import MlflowError

    assert proxied_root_path("mlflow-artifacts:/3/abc/artifacts") == "3/abc/artifacts"
    assert proxied_root_path("mlflow-artifacts://host:5000/3/abc/artifacts") == "3/abc/artifacts"
    assert proxied_root_path("http://h/projects/4/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts") == "3/abc/artifacts"
    with pytest.raises(MlflowError):
        proxied_root_path("s3://bucket/elsewhere")
    with pytest.raises(MlflowError):
        proxied_root_path("mlflow-artifacts:/3/../../x")
