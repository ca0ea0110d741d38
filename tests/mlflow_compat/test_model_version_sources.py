"""Model-version sources, differential: every source form is sent to `mlflow server` 3.17 and to
mltracker; the answers (status, message, source and run id of the new version) must be the same,
except the differences listed in DELIBERATE, each with mltracker's own expected answer."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
import requests
from mlflow import MlflowClient

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e

RELATIVE = ("If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts "
            "uri, an absolute path must be provided without relative path references present. Please provide "
            "an absolute path.")


@dataclass
class Scene:
    """One server's objects, with the placeholders the forms below are written in."""
    url: str
    names: dict  # placeholder -> real value

    def fill(self, text):
        if text is None:
            return None
        for placeholder, value in self.names.items():
            text = text.replace(placeholder, value)
        return text

    def blank(self, text: str) -> str:
        for placeholder, value in sorted(self.names.items(), key=lambda kv: -len(kv[1])):
            if placeholder == "{EXP}":  # a short number: only where it is a path segment
                text = text.replace(f"/{value}/", "/{EXP}/")
            else:
                text = text.replace(value, placeholder)
        return text


def _scene(url: str) -> Scene:
    with tracking_uri_env(url):
        client = MlflowClient(url)
        experiment_id = client.create_experiment(f"sources-{uuid.uuid4().hex[:8]}")
        run = client.create_run(experiment_id).info
        other = client.create_run(experiment_id).info
        name = f"model-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        client.create_model_version(name, f"runs:/{run.run_id}/model", run_id=run.run_id)
        logged = client.create_logged_model(experiment_id, name="lm")
    return Scene(url, {"{RUN}": run.run_id, "{OTHER}": other.run_id, "{EXP}": experiment_id, "{NAME}": name,
                       "{LM}": logged.model_id, "{URL}": url})


# (label, source, run_id, model_id)
FORMS = [
    ("runs:/ with its run_id", "runs:/{RUN}/model", "{RUN}", None),
    ("runs:/ without run_id", "runs:/{RUN}/model", None, None),
    ("runs:/ of another run", "runs:/{OTHER}/model", "{RUN}", None),
    ("runs:/ with a host", "runs://x/{RUN}/model", "{RUN}", None),
    ("runs:/ with a model_id", "runs:/{RUN}/model", None, "{LM}"),
    ("artifact_uri/model with run_id", "mlflow-artifacts:/{EXP}/{RUN}/artifacts/model", "{RUN}", None),
    ("artifact_uri/model without run_id", "mlflow-artifacts:/{EXP}/{RUN}/artifacts/model", None, None),
    ("artifact_uri of another run", "mlflow-artifacts:/{EXP}/{OTHER}/artifacts/model", "{RUN}", None),
    ("the run's artifact root", "mlflow-artifacts:/{EXP}/{RUN}/artifacts", "{RUN}", None),
    ("mlflow-artifacts:/ climbing out", "mlflow-artifacts:/{EXP}/{RUN}/artifacts/../../x", "{RUN}", None),
    ("mlflow-artifacts:/ climbing out, encoded", "mlflow-artifacts:/{EXP}/{RUN}/artifacts/..%2f..%2fx", "{RUN}", None),
    ("mlflow-artifacts://host/", "mlflow-artifacts://elsewhere:5000/{EXP}/{RUN}/artifacts/model", "{RUN}", None),
    ("http URL of the artifact proxy", "{URL}/api/2.0/mlflow-artifacts/artifacts/{EXP}/{RUN}/artifacts/model", "{RUN}", None),
    ("https URL", "https://example.com/model", None, None),
    ("ftp", "ftp://example.com/model", None, None),
    ("hdfs", "hdfs://namenode:8020/model", None, None),
    ("s3 with run_id", "s3://bucket/path/model", "{RUN}", None),
    ("s3 without run_id", "s3://bucket/path/model", None, None),
    ("s3 climbing", "s3://bucket/path/../x", None, None),
    ("gs", "gs://bucket/model", None, None),
    ("local absolute path", "/tmp/model", None, None),
    ("local absolute path with run_id", "/tmp/model", "{RUN}", None),
    ("local relative path", "model", None, None),
    ("file: URI with run_id", "file:///tmp/model", "{RUN}", None),
    ("file: URI without run_id", "file:///tmp/model", None, None),
    ("a version number as the source", "1.0.0", None, None),
    ("models:/name/version", "models:/{NAME}/1", None, None),
    ("models:/name/latest", "models:/{NAME}/latest", None, None),
    ("models:/name/version, other run", "models:/{NAME}/1", "{OTHER}", None),
    ("models:/name with a host", "models://x/{NAME}/1", None, None),
    ("models:/<logged model> without model_id", "models:/{LM}", None, None),
    ("models:/<logged model> with model_id", "models:/{LM}", None, "{LM}"),
    ("logged model location with model_id", "mlflow-artifacts:/{EXP}/models/{LM}/artifacts", None, "{LM}"),
    ("runs:/ of an unknown run", "runs:/00000000000000000000000000000000/model",
     "00000000000000000000000000000000", None),
    # last: accepted by mltracker only, it must not shift the version numbers seen by the forms above
    ("empty source", "", None, None),
]

# label -> mltracker's answer where it deliberately differs from mlflow server's (a None message:
# only the status is compared)
DELIBERATE = {
    # GitLab's built-in registry documents source="" (it ignores the source): the version gets a run
    # of its own (test_gitlab_snippets.py)
    "empty source": (200, None),
}


def _answer(scene: Scene, name: str, source: str, run_id, model_id):
    body = {"name": name, "source": scene.fill(source)}
    if run_id is not None:
        body["run_id"] = scene.fill(run_id)
    if model_id is not None:
        body["model_id"] = scene.fill(model_id)
    response = requests.post(scene.url + "/api/2.0/mlflow/model-versions/create", json=body, timeout=30)
    if response.status_code != 200:
        return response.status_code, scene.blank(response.json()["message"])
    version = response.json()["model_version"]
    return 200, scene.blank(json.dumps({"source": version["source"], "run_id": version.get("run_id")}))


@pytest.fixture(scope="module")
def reference_answers(mlflow_server):
    scene = _scene(mlflow_server.url)
    return {label: _answer(scene, scene.names["{NAME}"], *form) for label, *form in FORMS}


@pytest.fixture
def scene(mltracker):
    return _scene(mltracker.url)


def test_every_source_form_is_answered_as_mlflow_server_answers(reference_answers, scene):
    mismatches = {}
    for label, *form in FORMS:
        answer = _answer(scene, scene.names["{NAME}"], *form)
        expected = DELIBERATE.get(label, reference_answers[label])
        if expected[1] is None:
            answer = (answer[0], None)
        if answer != expected:
            mismatches[label] = {"mltracker": answer, "expected": expected}
    assert mismatches == {}


def test_the_reference_still_disagrees_where_documented(reference_answers):
    """DELIBERATE lists real differences only: mlflow server answers otherwise."""
    for label, answer in DELIBERATE.items():
        assert reference_answers[label][0] != answer[0] or reference_answers[label][1] != answer[1], label


def test_sources_in_another_project_are_refused(mltracker):
    base = mltracker.url
    theirs = MlflowClient(f"{base}/projects/7")
    run = theirs.create_run(theirs.create_experiment(f"theirs-{uuid.uuid4().hex[:8]}")).info
    ours = MlflowClient(f"{base}/projects/8")
    name = f"ours-{uuid.uuid4().hex[:8]}"
    ours.create_registered_model(name)
    for source, run_id in ((f"runs:/{run.run_id}/model", run.run_id), (f"{run.artifact_uri}/model", run.run_id)):
        response = requests.post(f"{base}/projects/8/api/2.0/mlflow/model-versions/create",
                                 json={"name": name, "source": source, "run_id": run_id}, timeout=30)
        assert response.status_code == 400
        assert "The run_id request parameter must identify the resource that contains the source" in \
            response.json()["message"]
    assert ours.search_model_versions(f"name = '{name}'") == []
