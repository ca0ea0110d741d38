"""MLflow's MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: a server-wide rule for model-version
sources. Both servers are started with it, and answer alike through the stock client."""
from __future__ import annotations

import uuid

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.conftest import run_mltracker
from tests.e2e.helpers import start_mlflow_server, tracking_uri_env

pytestmark = pytest.mark.e2e

PATTERN = {"MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX": r"^mlflow-artifacts:/.*$"}


@pytest.fixture(scope="module", params=["mlflow-server", "mltracker"])
def client(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "mlflow-server":
        server = start_mlflow_server(tmp, extra_env=PATTERN)
    else:
        server = run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"), extra_env=PATTERN)
    with server as live, tracking_uri_env(live.url):
        yield MlflowClient(live.url)


def test_a_source_the_pattern_does_not_match_is_refused(client):
    name = f"pattern-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    with pytest.raises(MlflowException, match=r"^INVALID_PARAMETER_VALUE: Invalid model version source: "
                                              r"'s3://bucket/model'\.$"):
        client.create_model_version(name, source="s3://bucket/model")
    assert client.search_model_versions(f"name = '{name}'") == []


def test_a_source_the_pattern_matches_is_registered(client):
    name = f"pattern-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment(name)).info
    version = client.create_model_version(name, source=f"{run.artifact_uri}/model", run_id=run.run_id)
    assert (version.version, version.source) == ("1", f"{run.artifact_uri}/model")
