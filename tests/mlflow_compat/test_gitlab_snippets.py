"""GitLab's built-in experiment tracking and model registry, as its documentation tells users to
drive them with the MLflow client (doc/user/project/ml/experiment_tracking/mlflow_client.md and the
model registry's empty-state snippet), run unchanged against mltracker."""
from __future__ import annotations

import uuid

import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def gitlab_user(mltracker):
    with tracking_uri_env(mltracker.url):
        yield MlflowClient()


def test_model_version_from_an_empty_source_with_a_semantic_version(gitlab_user, mltracker, tmp_path):
    client = gitlab_user
    model_name = f"iris-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(model_name, description="Model description")

    tags = {"gitlab.version": "1.0.0"}
    model_version = client.create_model_version(model_name, source="", description="first", tags=tags)
    run_id = model_version.run_id
    assert run_id
    client.log_param(run_id, "max_depth", "3")
    client.log_metric(run_id, "accuracy", 0.93)
    (tmp_path / "model.pkl").write_bytes(b"pickled")
    client.log_artifact(run_id, str(tmp_path / "model.pkl"), artifact_path="")

    # the user's script retries: the version exists, so it fetches it by its semantic version
    with pytest.raises(MlflowException, match="already exists"):
        client.create_model_version(model_name, source="", tags=tags)
    fetched = client.get_model_version(model_name, "1.0.0")
    assert fetched.version == model_version.version
    assert fetched.run_id == run_id and fetched.tags["gitlab.version"] == "1.0.0"
    run = client.get_run(run_id)
    assert run.data.params == {"max_depth": "3"} and run.data.metrics == {"accuracy": 0.93}
    assert client.get_experiment(run.info.experiment_id).name == f"[model]{model_name}"

    # the version's files are the run's
    local = client.download_artifacts(run_id, "model.pkl", str(tmp_path / "down"))
    with open(local, "rb") as f:
        assert f.read() == b"pickled"
    assert client.get_model_version_download_uri(model_name, "1.0.0") == run.info.artifact_uri
    client.set_model_version_tag(model_name, "1.0.0", "stage", "candidate")
    assert client.get_model_version(model_name, model_version.version).tags["stage"] == "candidate"


def test_model_registry_empty_state_snippet(gitlab_user):
    """GitLab's model registry page: `client.create_model_version(model_name, version, tags=tags)`."""
    client = gitlab_user
    model_name = f"snippet-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(model_name, description="Model description")
    version = "1.1.0"
    model_version = client.create_model_version(model_name, version, tags={"gitlab.version": version})
    assert model_version.run_id
    assert client.get_model_version(model_name, version).version == model_version.version
    with pytest.raises(MlflowException, match="Version must be semantic version"):
        client.create_model_version(model_name, "", tags={"gitlab.version": "one"})
    # without GitLab's tag, a local path is refused as mlflow server refuses it
    with pytest.raises(MlflowException, match="To use a local path as a model version source"):
        client.create_model_version(model_name, "1.2.0")


def test_experiments_list_and_gitlab_run_tags(gitlab_user, mltracker):
    import mlflow

    name = f"gitlab-exp-{uuid.uuid4().hex[:8]}"
    experiment_id = mlflow.create_experiment(name=name)
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        mlflow.log_param("algorithm", "Decision Tree")
        mlflow.log_metric("accuracy", 0.9)
        mlflow.set_tag("gitlab.version", "2.0.0")
    listed = requests.get(f"{mltracker.url}/api/2.0/mlflow/experiments/list", timeout=30)
    assert listed.status_code == 200
    assert experiment_id in [e["experiment_id"] for e in listed.json()["experiments"]]
    assert gitlab_user.get_run(run.info.run_id).data.tags["gitlab.version"] == "2.0.0"
    assert requests.get(f"{mltracker.url}/api/2.0/mlflow/experiments/list", params={"view_type": "nope"},
                        timeout=30).status_code == 400
