"""GitLab's model registry as its MLflow API shows it, kept in front of a real `mlflow server`
(part of tests/fakes/gitlab_mlflow.py).

Modelled on GitLab's source and doc `doc/user/project/ml/experiment_tracking/mlflow_client.md`:
- a model (`app/models/ml/model.rb`) has a default experiment named `[model]<name>`, created with it
  (`Ml::CreateModelService`); `create_registered_model`'s tags are ignored (the doc's notes);
- a version (`Ml::CreateModelVersionService`) has a semantic version — the `gitlab.version` tag, else
  the latest one's patch + 1, from 1.0.0 (the doc: "auto-incremented from the latest uploaded
  version") —, a candidate run of its own in the model's experiment, and a package for its files;
  `source` and `run_id` are ignored (the doc's notes);
- `lib/api/entities/ml/mlflow/model_version.rb`: `version` is the version's database id (instance-wide,
  so not 1, 2, …), `aliases` is `[semantic version]`, `current_stage` "development", `source` the
  version's page (`project_ml_model_version_path`), `run_id` the candidate's eid, timestamps in
  seconds (`created_at.to_i`), `user_id` null, `tags` the version's metadata;
- `lib/api/entities/ml/mlflow/registered_model.rb`: `expose :versions, as: :latest_versions` — every
  version of the model (`has_many :versions`), not the latest per stage; timestamps in seconds;
- `lib/api/ml/mlflow/registered_models.rb`: `get-latest-versions` answers `[model.latest_version]`;
  `alias` finds a version by its semantic version; `lib/api/ml/mlflow/model_versions.rb` has no
  `search` route (Grape's 404);
- `lib/api/entities/ml/mlflow/run_info.rb`: a version's candidate has the artifact_uri
  `<gitlab>/api/v4/projects/<id>/packages/ml_models/<version id>/files/`; its files are listed by
  `mlflow-artifacts/artifacts?path=<version id>` (flat) and read from
  `mlflow-artifacts/artifacts/<version id>/<file>` (`lib/api/ml/mlflow_artifacts/artifacts.rb`), and
  the client uploads them with `PUT …/packages/ml_models/<version id>/files/<file>`
  (`lib/api/ml_model_packages.rb`).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

import requests

MODEL_EXPERIMENT_PREFIX = "[model]"
VERSION_TAG = "gitlab.version"


@dataclass
class _Version:
    id: int
    model: str
    semver: str
    mlflow_version: str
    run_id: str


@dataclass
class _Model:
    id: int
    name: str
    project_path: str
    versions: list[int] = field(default_factory=list)


def _semver_key(text: str) -> tuple:
    core = text.split("+", 1)[0].split("-", 1)[0]
    return tuple(int(part) for part in core.split("."))


class GitLabModelRegistry:
    """Models and versions of one fake GitLab, stored as MLflow registered models and versions."""

    def __init__(self, mlflow_url: str, gitlab_url_holder: list):
        self.mlflow = mlflow_url.rstrip("/")
        self.gitlab_url = gitlab_url_holder
        self.lock = threading.Lock()
        self.models: dict[str, _Model] = {}
        self.versions: dict[int, _Version] = {}
        self.version_of_run: dict[str, int] = {}
        # ml_models and ml_model_versions share no sequence with anything the test sees; start high
        # so a version id is never mistaken for a per-model number.
        self._ids = itertools.count(101)

    def _call(self, method: str, route: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.mlflow}/api/2.0/mlflow/{route}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    # ---- writes (GitLab's services)

    def create_model(self, name: str, description: str | None, project_path: str) -> dict:
        body = {"name": name}
        if description:
            body["description"] = description
        self._call("POST", "registered-models/create", json=body)
        self._call("POST", "experiments/create", json={"name": f"{MODEL_EXPERIMENT_PREFIX}{name}"})
        with self.lock:
            self.models[name] = _Model(next(self._ids), name, project_path)
        return self.model_entity(name)

    def create_version(self, name: str, description: str | None, tags: list[dict]) -> dict:
        model = self.models[name]
        semver = next((t.get("value") for t in tags if t.get("key") == VERSION_TAG), None)
        if semver is None:
            latest = self.latest(name)
            if latest is None:
                semver = "1.0.0"
            else:
                major, minor, patch = _semver_key(latest.semver)
                semver = f"{major}.{minor}.{patch + 1}"
        experiment = self._call("GET", "experiments/get-by-name",
                                params={"experiment_name": f"{MODEL_EXPERIMENT_PREFIX}{name}"})["experiment"]
        run = self._call("POST", "runs/create", json={"experiment_id": experiment["experiment_id"],
                                                      "run_name": f"{name}-{semver}"})["run"]
        run_id = run["info"]["run_id"]
        created = self._call("POST", "model-versions/create", json={
            "name": name, "source": run["info"]["artifact_uri"], "run_id": run_id,
            "description": description or "", "tags": tags,
        })["model_version"]
        with self.lock:
            version = _Version(next(self._ids), name, semver, created["version"], run_id)
            self.versions[version.id] = version
            self.version_of_run[run_id] = version.id
            model.versions.append(version.id)
        return self.version_entity(version)

    # ---- reads

    def latest(self, name: str) -> _Version | None:
        versions = [self.versions[i] for i in self.models[name].versions]
        return max(versions, key=lambda v: _semver_key(v.semver), default=None)

    def by_semver(self, name: str, semver: str) -> _Version | None:
        model = self.models.get(name)
        if model is None:
            return None
        return next((self.versions[i] for i in model.versions if self.versions[i].semver == semver), None)

    def model_entity(self, name: str, mlflow_model: dict | None = None) -> dict:
        found = mlflow_model or self._call("GET", "registered-models/get", params={"name": name})["registered_model"]
        model = self.models[name]
        return {
            "name": name,
            "creation_timestamp": int(found.get("creation_timestamp") or 0) // 1000,
            "last_updated_timestamp": int(found.get("last_updated_timestamp") or 0) // 1000,
            "description": found.get("description") or "",
            "user_id": "",
            "tags": [],
            "latest_versions": [self.version_entity(self.versions[i]) for i in model.versions],
        }

    def version_entity(self, version: _Version) -> dict:
        found = self._call("GET", "model-versions/get",
                           params={"name": version.model, "version": version.mlflow_version})["model_version"]
        model = self.models[version.model]
        return {
            "name": version.model,
            "version": str(version.id),
            "creation_timestamp": int(found.get("creation_timestamp") or 0) // 1000,
            "last_updated_timestamp": int(found.get("last_updated_timestamp") or 0) // 1000,
            "user_id": None,
            "current_stage": "development",
            "description": found.get("description") or "",
            "source": f"{self.gitlab_url[0]}/{model.project_path}/-/ml/models/{model.id}/versions/{version.id}",
            "run_id": version.run_id,
            "status": "READY",
            "status_message": "",
            "tags": [{"key": t["key"], "value": t.get("value", "")} for t in found.get("tags") or []],
            "run_link": "",
            "aliases": [version.semver],
        }

    def candidate_root(self, version_id: int) -> str | None:
        """The mlflow-artifacts path of a version's files (its candidate's artifact root)."""
        version = self.versions.get(version_id)
        if version is None:
            return None
        uri = self._call("GET", "runs/get", params={"run_id": version.run_id})["run"]["info"]["artifact_uri"]
        return uri.split(":", 1)[1].lstrip("/")
