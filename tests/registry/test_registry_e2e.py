"""The registry through the stock MLflow client against `mltracker serve`, on SQLite + local folder
and on PostgreSQL + S3: log_model → register_model → alias → load_model, and the rest of the API."""
from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from registry_helpers import unique


class MyModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return model_input["x"] * 2 + 1


INPUT = pd.DataFrame({"x": [1.0, 2.0, 3.5]})
EXPECTED = [3.0, 5.0, 8.0]


def _predictions(model_uri: str) -> list[float]:
    return list(mlflow.pyfunc.load_model(model_uri).predict(INPUT))


def _log_model(name="model"):
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name=name, python_model=MyModel())
    return run, info


def test_issue_snippet_log_register_alias_load(client, experiment_id):
    run, info = _log_model()
    assert info.model_uri.startswith("models:/m-")
    name = unique("churn")
    mv = mlflow.register_model(info.model_uri, name)
    assert mv.version == "1"
    client.set_registered_model_alias(name, "champion", mv.version)

    direct = list(mlflow.pyfunc.load_model(info.model_uri).predict(INPUT))
    assert direct == EXPECTED
    assert _predictions(f"models:/{name}@champion") == direct
    assert _predictions(f"models:/{name}/1") == direct

    version = client.get_model_version(name, "1")
    assert version.run_id == run.info.run_id
    assert version.source == info.model_uri
    assert version.aliases == ["champion"]
    download = client.get_model_version_download_uri(name, "1")
    assert download == client.get_logged_model(info.model_id).artifact_location
    assert download.endswith(f"/models/{info.model_id}/artifacts")

    # register_model also records the version on the logged model (server and client both do).
    tag = json.loads(client.get_logged_model(info.model_id).tags["mlflow.modelVersions"])
    assert {"name": name, "version": "1"} in tag or {"name": name, "version": 1} in tag


def test_register_from_runs_uri_and_from_artifacts_uri(client, experiment_id):
    run, info = _log_model(name="clf")
    name = unique("sources")
    # runs:/<run>/<name>: the client finds the run's logged model named "clf" and registers it.
    mv1 = mlflow.register_model(f"runs:/{run.info.run_id}/clf", name)
    assert client.get_model_version(name, mv1.version).source == f"models:/{info.model_id}"
    # an mlflow-artifacts:/ source inside the logged model's artifacts, with model_id.
    location = client.get_logged_model(info.model_id).artifact_location
    mv2 = client.create_model_version(name, location, run_id=run.info.run_id, model_id=info.model_id)
    assert mv2.version == "2" and mv2.source == location
    # a runs:/ source given directly: the run_id must match.
    mv3 = client.create_model_version(name, f"runs:/{run.info.run_id}/clf", run_id=run.info.run_id)
    assert mv3.source == f"runs:/{run.info.run_id}/clf"
    for version in ("1", "2"):
        assert _predictions(f"models:/{name}/{version}") == EXPECTED
    # an mlflow-artifacts:/ source inside the run's artifacts
    run_artifacts = client.get_run(run.info.run_id).info.artifact_uri
    mv4 = client.create_model_version(name, f"{run_artifacts}/anything", run_id=run.info.run_id)
    assert mv4.version == "4"


def test_invalid_sources_are_refused(client, experiment_id):
    run, info = _log_model()
    name = unique("bad-sources")
    client.create_registered_model(name)
    other = client.get_run(run.info.run_id).info.artifact_uri
    cases = [
        (dict(source=f"runs:/{run.info.run_id}/model", run_id="0" * 32), "run_id request parameter"),
        (dict(source=f"models:/{info.model_id}"), "model_id request parameter"),
        (dict(source=f"{other}/model"), "run_id request parameter"),
        (dict(source="/etc/passwd"), "local path"),
        (dict(source=f"{other}/../../x", run_id=run.info.run_id), "relative path"),
    ]
    for kwargs, fragment in cases:
        with pytest.raises(MlflowException) as err:
            client.create_model_version(name, **kwargs)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE", kwargs
        assert "Invalid model version source" in err.value.message and fragment in err.value.message, (
            kwargs, err.value.message)
    assert client.search_model_versions(f"name = '{name}'") == []


def test_alias_moves_and_deletes(client, experiment_id):
    _, info = _log_model()
    name = unique("aliases")
    for _ in range(3):
        mlflow.register_model(info.model_uri, name)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "3")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    client.set_registered_model_alias(name, "champion", "2")  # move
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_model_version(name, "1").aliases == []
    assert client.get_registered_model(name).aliases == {"champion": "2", "challenger": "3"}
    assert client.get_model_version_by_alias(name, "latest").version == "3"

    client.delete_registered_model_alias(name, "challenger")
    with pytest.raises(MlflowException, match="Registered model alias challenger not found"):
        client.get_model_version_by_alias(name, "challenger")
    with pytest.raises(MlflowException, match="'latest' alias name"):
        client.set_registered_model_alias(name, "Latest", "1")
    with pytest.raises(MlflowException, match="Version alias name 'v1' is reserved"):
        client.set_registered_model_alias(name, "v1", "1")
    with pytest.raises(MlflowException, match="Invalid alias name"):
        client.set_registered_model_alias(name, "bad alias", "1")
    with pytest.raises(MlflowException, match=r"Model Version \(name=.*, version=9\) not found"):
        client.set_registered_model_alias(name, "x", "9")
    # deleting a version drops the aliases on it
    client.delete_model_version(name, "2")
    with pytest.raises(MlflowException, match="alias champion not found"):
        client.get_model_version_by_alias(name, "champion")


def test_registered_model_lifecycle(client):
    name = unique("lifecycle")
    created = client.create_registered_model(name, tags={"team": "risk"}, description="first")
    assert created.name == name and created.description == "first" and created.tags == {"team": "risk"}
    with pytest.raises(MlflowException) as err:
        client.create_registered_model(name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert err.value.message.endswith(f"Registered Model (name={name}) already exists.")

    client.update_registered_model(name, description="second")
    assert client.get_registered_model(name).description == "second"
    client.set_registered_model_tag(name, "stage", "beta")
    client.delete_registered_model_tag(name, "team")
    assert client.get_registered_model(name).tags == {"stage": "beta"}

    new_name = unique("renamed")
    client.rename_registered_model(name, new_name)
    with pytest.raises(MlflowException) as err:
        client.get_registered_model(name)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert err.value.message.endswith(f"Registered Model with name={name} not found")
    assert client.get_registered_model(new_name).tags == {"stage": "beta"}

    client.delete_registered_model(new_name)
    with pytest.raises(MlflowException, match="not found"):
        client.get_registered_model(new_name)
    with pytest.raises(MlflowException, match="Names cannot contain '/' or ':'"):
        client.create_registered_model("a/b")


def test_model_versions_update_tags_stages_latest(client, experiment_id):
    _, info = _log_model()
    name = unique("stages")
    for _ in range(4):
        mlflow.register_model(info.model_uri, name, tags={"kind": "pyfunc"})
    client.update_model_version(name, "1", description="the first")
    assert client.get_model_version(name, "1").description == "the first"
    client.set_model_version_tag(name, "1", "validated", "yes")
    assert client.get_model_version(name, "1").tags == {"kind": "pyfunc", "validated": "yes"}
    client.delete_model_version_tag(name, "1", "kind")
    assert client.get_model_version(name, "1").tags == {"validated": "yes"}

    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "staging")
    moved = client.transition_model_version_stage(name, "3", "production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    with pytest.raises(MlflowException, match="Invalid Model Version stage: Prod"):
        client.transition_model_version_stage(name, "4", "Prod")
    with pytest.raises(MlflowException, match="cannot archive existing model versions"):
        client.transition_model_version_stage(name, "4", "Archived", archive_existing_versions=True)

    latest = {mv.current_stage: mv.version for mv in client.get_latest_versions(name)}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3", "None": "4"}
    assert [mv.version for mv in client.get_latest_versions(name, stages=["Production"])] == ["3"]
    assert {mv.version for mv in client.get_registered_model(name).latest_versions} == {"1", "2", "3", "4"}
    assert _predictions(f"models:/{name}/Production") == EXPECTED

    with pytest.raises(MlflowException, match="must be an integer"):
        client.get_model_version(name, "x")


def test_delete_versions_numbers_never_reused(client, experiment_id):
    _, info = _log_model()
    name = unique("deletes")
    for _ in range(3):
        mlflow.register_model(info.model_uri, name)
    client.delete_model_version(name, "3")
    with pytest.raises(MlflowException) as err:
        client.get_model_version(name, "3")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow.register_model(info.model_uri, name).version == "4"
    assert [mv.version for mv in client.search_model_versions(f"name='{name}'")] == ["4", "2", "1"]
    client.delete_registered_model(name)
    assert client.search_model_versions(f"name='{name}'") == []
    assert mlflow.register_model(info.model_uri, name).version == "1"


def test_search_filters_order_and_paging(client, experiment_id):
    run_a, info_a = _log_model()
    run_b, info_b = _log_model()
    prefix = unique("Search")
    names = [f"{prefix}-alpha", f"{prefix}-beta", f"{prefix}-Gamma"]
    for index, name in enumerate(names):
        client.create_registered_model(name, tags={"team": "risk" if index < 2 else "growth"})
    mlflow.register_model(info_a.model_uri, names[0])
    mlflow.register_model(info_b.model_uri, names[0], tags={"quality": "gold"})
    mlflow.register_model(info_b.model_uri, names[1])

    def model_names(filter_string, **kwargs):
        return [m.name for m in client.search_registered_models(filter_string, **kwargs)]

    assert model_names(f"name = '{names[0]}'") == [names[0]]
    in_order = sorted(names)  # byte order: "-Gamma" sorts before "-alpha"
    assert model_names(f"name LIKE '{prefix}-%'") == in_order
    assert model_names(f"name LIKE '{prefix}-g%'") == []
    assert model_names(f"name ILIKE '{prefix}-g%'") == [names[2]]
    assert model_names(f"name LIKE '{prefix}%' AND tags.team = 'risk'") == names[:2]
    assert model_names(f"tags.`team` != 'risk' AND name LIKE '{prefix}%'") == [names[2]]
    assert model_names(f"name IN ('{names[0]}', '{names[2]}')") == [names[2], names[0]]
    assert model_names(f"name LIKE '{prefix}%'", order_by=["name DESC"]) == sorted(names, reverse=True)
    page = client.search_registered_models(f"name LIKE '{prefix}%'", max_results=2)
    assert [m.name for m in page] == in_order[:2] and page.token
    rest = client.search_registered_models(f"name LIKE '{prefix}%'", max_results=2, page_token=page.token)
    assert [m.name for m in rest] == in_order[2:] and not rest.token

    def versions(filter_string, **kwargs):
        return [(m.name, m.version) for m in client.search_model_versions(filter_string, **kwargs)]

    assert versions(f"name = '{names[0]}'", order_by=["version_number ASC"]) == [(names[0], "1"), (names[0], "2")]
    assert versions(f"run_id = '{run_b.info.run_id}'", order_by=["name ASC"]) == [(names[0], "2"), (names[1], "1")]
    assert versions(f"run_id IN ('{run_a.info.run_id}') AND name = '{names[0]}'") == [(names[0], "1")]
    assert versions(f"tags.quality = 'gold' AND name LIKE '{prefix}%'") == [(names[0], "2")]
    assert versions(f"name = '{names[0]}' AND version_number > 1") == [(names[0], "2")]
    assert versions(f"source_path = 'models:/{info_a.model_id}'") == [(names[0], "1")]

    errors = {
        "name = 'a' OR name = 'b'": "Invalid clause(s) in filter string",
        "creation_timestamp > 1": "Invalid attribute key 'creation_timestamp' specified",
        "params.x = '1'": "Invalid entity type 'params'",
        "tags.x > '1'": "Invalid comparator for tag: >",
        "run_id > 'a'": "Invalid comparator for attribute: >",
        "name = 1": "Only the",
        "source_path IN ('a')": "support comparison with a list",
    }
    for bad_filter, fragment in errors.items():
        with pytest.raises(MlflowException) as err:
            client.search_model_versions(bad_filter)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"
        assert fragment in err.value.message, (bad_filter, err.value.message)
    with pytest.raises(MlflowException, match="Invalid order by key 'creation_timestamp'"):
        client.search_registered_models(order_by=["creation_timestamp"])
    with pytest.raises(MlflowException, match="Invalid attribute key 'tag'"):
        client.search_registered_models("tag = 'x'")


def test_project_scoping(live_server, experiment_id):
    """Registered model names are unique per project; another project never sees them."""
    from mlflow import MlflowClient

    name = unique("scoped")
    root = MlflowClient(live_server.url, live_server.url)
    project = MlflowClient(f"{live_server.url}/projects/4242", f"{live_server.url}/projects/4242")
    root.create_registered_model(name, description="root")
    project.create_registered_model(name, description="project")
    assert root.get_registered_model(name).description == "root"
    assert project.get_registered_model(name).description == "project"
    assert [m.name for m in project.search_registered_models(f"name = '{name}'")] == [name]
    project.delete_registered_model(name)
    assert root.get_registered_model(name).description == "root"
    other = MlflowClient(f"{live_server.url}/projects/4243", f"{live_server.url}/projects/4243")
    with pytest.raises(MlflowException) as err:
        other.get_registered_model(name)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_mlflow_errors_have_mlflow_shapes(live_server):
    import requests

    base = f"{live_server.url}/api/2.0/mlflow"
    response = requests.post(f"{base}/registered-models/create", json={})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Missing value for required parameter 'name'. See the API docs for more information "
                   "about request parameters.",
    }
    response = requests.get(f"{base}/model-versions/get", params={"name": "nope", "version": "1"})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    response = requests.get(f"{base}/registered-models/search", params={"max_results": "1001"})
    assert response.status_code == 400
