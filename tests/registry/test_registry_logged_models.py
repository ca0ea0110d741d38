"""MLflow 3 logged models through the stock client: create, get, finalize, tags, params, search,
delete, run outputs, and project scoping."""
from __future__ import annotations

import mlflow
import pytest
import requests
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException

from registry_helpers import unique


def test_logged_model_lifecycle(client, experiment_id):
    run = client.create_run(experiment_id)
    model = client.create_logged_model(
        experiment_id, name="clf", source_run_id=run.info.run_id, params={"alpha": "0.5"},
        tags={"owner": "ann"}, model_type="sklearn",
    )
    assert model.model_id.startswith("m-")
    assert model.status == LoggedModelStatus.PENDING
    assert model.artifact_location == f"mlflow-artifacts:/{experiment_id}/models/{model.model_id}/artifacts"
    assert (model.name, model.model_type, model.source_run_id) == ("clf", "sklearn", run.info.run_id)
    assert model.params == {"alpha": "0.5"} and model.tags == {"owner": "ann"}

    finalized = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert finalized.status == LoggedModelStatus.READY
    client.set_logged_model_tags(model.model_id, {"owner": "bob", "stage": "dev"})
    client.delete_logged_model_tag(model.model_id, "stage")
    client.log_model_params(model.model_id, {"beta": "2"})
    fetched = client.get_logged_model(model.model_id)
    assert fetched.tags == {"owner": "bob"} and fetched.params == {"alpha": "0.5", "beta": "2"}
    with pytest.raises(MlflowException) as err:
        client.delete_logged_model_tag(model.model_id, "missing")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    client.log_outputs(run.info.run_id, [mlflow.entities.LoggedModelOutput(model.model_id, step=3)])
    outputs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model.model_id, 3)]

    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException) as err:
        client.get_logged_model(model.model_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert f"Logged model with ID '{model.model_id}' not found." in err.value.message
    deleted = requests.get(
        f"{client.tracking_uri}/api/2.0/mlflow/logged-models/{model.model_id}", params={"allow_deleted": "true"}
    )
    assert deleted.status_code == 200 and deleted.json()["model"]["info"]["model_id"] == model.model_id


def test_search_logged_models(client, experiment_id):
    models = [
        client.create_logged_model(experiment_id, name=f"m{i}", params={"depth": str(i)},
                                   tags={"team": "risk" if i % 2 else "growth"})
        for i in range(5)
    ]
    client.finalize_logged_model(models[1].model_id, LoggedModelStatus.READY)

    def ids(**kwargs):
        return [m.model_id for m in client.search_logged_models(experiment_ids=[experiment_id], **kwargs)]

    newest_first = [m.model_id for m in reversed(models)]
    assert ids() == newest_first
    assert ids(filter_string="name = 'm2'") == [models[2].model_id]
    assert ids(filter_string="tags.team = 'risk'") == [models[3].model_id, models[1].model_id]
    assert ids(filter_string="params.depth IN ('0', '4') AND name LIKE 'm%'") == [
        models[4].model_id, models[0].model_id]
    assert ids(filter_string="status = 'READY'") == [models[1].model_id]
    assert ids(order_by=[{"field_name": "name", "ascending": True}]) == [m.model_id for m in models]
    page = client.search_logged_models(experiment_ids=[experiment_id], max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_logged_models(experiment_ids=[experiment_id], max_results=10, page_token=page.token)
    assert [m.model_id for m in page] + [m.model_id for m in rest] == newest_first
    with pytest.raises(MlflowException, match="Invalid entity type"):
        client.search_logged_models(experiment_ids=[experiment_id], filter_string="foo.x = '1'")
    with pytest.raises(MlflowException, match="Invalid comparison operator"):
        client.search_logged_models(experiment_ids=[experiment_id], filter_string="params.x > '1'")
    client.delete_logged_model(models[0].model_id)
    assert models[0].model_id not in ids()


def test_logged_models_are_scoped_to_their_project(live_server, client, experiment_id):
    from mlflow import MlflowClient

    model = client.create_logged_model(experiment_id, name="private")
    other = MlflowClient(f"{live_server.url}/projects/777", f"{live_server.url}/projects/777")
    with pytest.raises(MlflowException) as err:
        other.get_logged_model(model.model_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException):
        other.set_logged_model_tags(model.model_id, {"x": "y"})
    # and its artifacts cannot back a model version in another project
    name = unique("other")
    other.create_registered_model(name)
    with pytest.raises(MlflowException, match="model_id request parameter"):
        other.create_model_version(name, f"models:/{model.model_id}", model_id=model.model_id)


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def test_logged_model_artifacts_listing_and_download(client, experiment_id):
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=Echo())
    base = f"{client.tracking_uri}/api/2.0/mlflow/logged-models/{info.model_id}/artifacts"
    listing = requests.get(f"{base}/directories")
    assert listing.status_code == 200, listing.text
    assert listing.json()["root_uri"].endswith(f"/models/{info.model_id}/artifacts")
    assert "MLmodel" in {f["path"] for f in listing.json()["files"]}
    mlmodel = requests.get(f"{base}/files", params={"artifact_file_path": "MLmodel"})
    assert mlmodel.status_code == 200 and "python_function" in mlmodel.text
    assert requests.get(f"{base}/files", params={"artifact_file_path": "../x"}).status_code == 400
    assert requests.get(f"{base}/files", params={"artifact_file_path": "nope"}).status_code == 404
