"""promote(): unit tests on SQLite and PostgreSQL (each refusal, loadable sources only, tags, alias,
atomicity) and end to end: a model logged by the stock client, promoted by the service, loaded by alias."""
from __future__ import annotations

import io
import json

import mlflow
import pandas as pd
import pytest

from registry_helpers import make_experiment, make_run, unique, unique_project
from mltracker.service.artifacts.keys import proxied_root_path
from mltracker.service.artifacts.factory import storage_from_destination
from mltracker.service.artifacts.local import LocalStorage
from mltracker.service.db.engine import Database
from mltracker.service.errors import MlflowError
from mltracker.service.logged_models import store as logged_models
from mltracker.service.logged_models.status import READY
from mltracker.service.registry.promote import PROMOTED_BY_TAG, SOURCE_MR_TAG, promote
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry.model_sources import model_sources
from mltracker.service.registry import versions
from mltracker.service.registry.records import load_versions
from mltracker.service.tracking import inputs as run_io
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking.experiments import DELETED


MLMODEL = b"flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n"


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(str(tmp_path / "artifacts"))


@pytest.fixture
def candidate(db):
    project = unique_project()
    experiment_id = make_experiment(db, project)
    return project, experiment_id, make_run(db, project, experiment_id, status="FINISHED")


def _write(storage, project, artifact_uri: str, path: str, body: bytes = MLMODEL) -> None:
    storage.write(f"{project}/{proxied_root_path(artifact_uri)}/{path}", io.BytesIO(body))


def _log_output_model(db, storage, project, experiment_id, run_id, step=0, status=READY, mlmodel=True) -> str:
    """What the stock client's log_model does: create, upload (MLmodel first of all), finalize."""
    with db.write() as conn:
        model_id = logged_models.create(conn, project, experiment_id, name="model", source_run_id=run_id)
        run_io.log_models(conn, run_id, [{"model_id": model_id, "step": step}], "output")
        if mlmodel:
            _write(storage, project, logged_models.get_row(conn, project, model_id).artifact_location, "MLmodel")
        if status is not None:
            logged_models.finalize(conn, project, model_id, status)
    return model_id


def _artifact_uri(db, project, run_id) -> str:
    with db.read() as conn:
        return run_store.get_run_row(conn, project, run_id).artifact_uri


def _version(db, project, name, version):
    with db.read() as conn:
        return load_versions(conn, [versions.get_version_row(conn, project, name, version)])[0]


def test_promote_logged_model_creates_model_version_alias_and_tags(db, storage, candidate):
    project, experiment_id, run_id = candidate
    model_id = _log_output_model(db, storage, project, experiment_id, run_id)
    name = unique("churn")
    with db.write() as conn:
        first = promote(conn, storage, project, run_id, name, alias="champion", actor="alice", source_mr=42)
    assert (first.version, first.model_id, first.created_registered_model) == (1, model_id, True)
    assert first.source == f"models:/{model_id}"
    version = _version(db, project, name, 1)
    assert version.tags[PROMOTED_BY_TAG] == "alice" and version.tags[SOURCE_MR_TAG] == "42"
    assert version.aliases == ("champion",) and version.run_id == run_id
    assert version.user_id == "alice"
    with db.read() as conn:
        assert versions.download_uri(conn, project, name, 1).endswith(f"/models/{model_id}/artifacts")
        recorded = json.loads(_model_tags(conn, project, model_id)["mlflow.modelVersions"])
    assert recorded == [{"name": name, "version": 1}]

    # promoting again: same registered model, next version, the alias moves
    with db.write() as conn:
        second = promote(conn, storage, project, run_id, name, alias="champion", actor="bob")
    assert (second.version, second.created_registered_model) == (2, False)
    with db.read() as conn:
        assert rms.alias_version(conn, project, name, "champion") == 2
    assert SOURCE_MR_TAG not in _version(db, project, name, 2).tags


def _model_tags(conn, project, model_id):
    from mltracker.service.logged_models.records import load_model

    logged_models.get_row(conn, project, model_id)
    return load_model(conn, model_id).tags


def test_promote_picks_the_latest_output_model(db, storage, candidate):
    project, experiment_id, run_id = candidate
    _log_output_model(db, storage, project, experiment_id, run_id, step=1)
    latest = _log_output_model(db, storage, project, experiment_id, run_id, step=5)
    _log_output_model(db, storage, project, experiment_id, run_id, step=3)
    with db.write() as conn:
        assert promote(conn, storage, project, run_id, unique("m"), actor="alice").model_id == latest


def test_a_candidate_without_a_model_is_refused_with_the_reason(db, storage, candidate):
    project, experiment_id, run_id = candidate
    root = _artifact_uri(db, project, run_id)
    _write(storage, project, root, "notes.txt", b"no model here")
    _write(storage, project, root, "plots/loss.png", b"png")
    _log_output_model(db, storage, project, experiment_id, run_id, status=None)  # upload never finished
    _log_output_model(db, storage, project, experiment_id, run_id, mlmodel=False)  # READY, yet no MLmodel
    name = unique("empty")
    with pytest.raises(MlflowError) as err, db.write() as conn:
        promote(conn, storage, project, run_id, name, actor="alice")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "has no model to register" in err.value.message and "MLmodel" in err.value.message
    with db.read() as conn, pytest.raises(MlflowError):
        rms.get_row(conn, project, name)  # nothing was created


def test_artifact_folders_holding_an_mlmodel_are_sources(db, storage, candidate):
    project, _, run_id = candidate
    root = _artifact_uri(db, project, run_id)
    _write(storage, project, root, "model/MLmodel")
    _write(storage, project, root, "more/sklearn/MLmodel")
    _write(storage, project, root, "more/sklearn/model.pkl", b"pickle")
    with db.read() as conn:
        offered = model_sources(conn, storage, project, run_store.get_run_row(conn, project, run_id))
    assert [(o.choice, o.uri) for o in offered] == [
        ("artifacts:model", f"{root}/model"), ("artifacts:more/sklearn", f"{root}/more/sklearn")]
    name = unique("legacy")
    with db.write() as conn:
        first = promote(conn, storage, project, run_id, name, actor="alice")
        chosen = promote(conn, storage, project, run_id, name, actor="alice", source="artifacts:more/sklearn")
    assert (first.source, first.model_id) == (f"{root}/model", None)
    assert (chosen.source, chosen.version) == (f"{root}/more/sklearn", 2)


def test_a_source_that_is_not_offered_is_refused(db, storage, candidate):
    project, experiment_id, run_id = candidate
    _log_output_model(db, storage, project, experiment_id, run_id)
    for wanted in ("artifacts:", "artifacts:notes.txt", "logged_model:m-0000", "anything"):
        with pytest.raises(MlflowError, match="is not a loadable model of candidate") as err, db.write() as conn:
            promote(conn, storage, project, run_id, unique("m"), actor="alice", source=wanted)
        assert "logged model 'model'" in err.value.message


@pytest.mark.parametrize("case", ["unknown", "other-project", "deleted", "failed"])
def test_promote_refusals(db, storage, candidate, case):
    project, experiment_id, run_id = candidate
    expected = {
        "unknown": ("RESOURCE_DOES_NOT_EXIST", "not found"),
        "other-project": ("PERMISSION_DENIED", "belongs to another project"),
        "deleted": ("INVALID_PARAMETER_VALUE", "is deleted"),
        "failed": ("INVALID_PARAMETER_VALUE", "FAILED"),
    }[case]
    target_project = project
    if case == "unknown":
        run_id = "f" * 32
    elif case == "other-project":
        target_project = unique_project()
    elif case == "deleted":
        with db.write() as conn:
            run_store.set_lifecycle(conn, project, run_id, DELETED)
    else:
        run_id = make_run(db, project, experiment_id, status="FAILED")
    name = unique("refused")
    with pytest.raises(MlflowError) as err, db.write() as conn:
        promote(conn, storage, target_project, run_id, name, actor="alice")
    assert (err.value.error_code, expected[1] in err.value.message) == (expected[0], True), err.value.message
    assert run_id in err.value.message
    with db.read() as conn, pytest.raises(MlflowError):
        rms.get_row(conn, target_project, name)  # nothing was created


def test_promote_failed_candidate_with_force(db, storage, candidate):
    project, experiment_id, _ = candidate
    failed = make_run(db, project, experiment_id, status="FAILED")
    _log_output_model(db, storage, project, experiment_id, failed)
    with db.write() as conn:
        assert promote(conn, storage, project, failed, unique("forced"), actor="alice", force=True).version == 1


def test_promote_is_all_or_nothing(db, storage, candidate):
    project, experiment_id, run_id = candidate
    _log_output_model(db, storage, project, experiment_id, run_id)
    name = unique("atomic")
    with pytest.raises(MlflowError, match="Invalid alias name"), db.write() as conn:
        promote(conn, storage, project, run_id, name, alias="not valid!", actor="alice")
    with db.read() as conn, pytest.raises(MlflowError, match="not found"):
        rms.get_row(conn, project, name)


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return model_input["x"] * 2


def test_promote_end_to_end(client, experiment_id, live_server, monkeypatch):
    for key in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        if key in live_server.env:  # the server's own storage settings, to read what it stored
            monkeypatch.setenv(key, live_server.env[key])
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    name = unique("promoted")
    db = Database(live_server.backend_store_uri)
    try:
        with db.write() as conn:
            promotion = promote(conn, storage_from_destination(live_server.artifacts_destination), 0,
                                run.info.run_id, name, alias="champion", actor="alice", source_mr=7)
    finally:
        db.dispose()
    assert promotion.model_id == info.model_id
    version = client.get_model_version_by_alias(name, "champion")
    assert version.version == "1" and version.tags[SOURCE_MR_TAG] == "7"
    frame = pd.DataFrame({"x": [1.0, 4.0]})
    assert list(mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(frame)) == [2.0, 8.0]
