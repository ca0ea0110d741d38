"""What of a candidate can become a model version that loads: the models it logged.

`mlflow.pyfunc.load_model` needs a folder holding an `MLmodel` file. A candidate has such folders
as its output logged models (MLflow 3 `log_model`; stored beside the experiment, each with its own
artifact location) and as folders of its own artifacts (MLflow 2 `log_model(artifact_path=…)`, or
a model uploaded with `log_artifacts`). Only those are offered; anything else would make a version
that cannot be loaded.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.artifacts.keys import proxied_root_path
from mltracker.service.artifacts.paths import join_key
from mltracker.service.artifacts.storage import ArtifactStorage
from mltracker.service.db.registry_schema import logged_models
from mltracker.service.db.schema import run_models
from mltracker.service.errors import MlflowError
from mltracker.service.logged_models.status import READY
from mltracker.service.tracking.experiments import ACTIVE

MLMODEL = "MLmodel"
# How deep, and in how many folders, a candidate's artifacts are searched for an MLmodel file.
MAX_DEPTH = 2
MAX_LISTINGS = 12


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "logged_model" | "artifacts"
    ref: str  # the logged model's id, or the folder's path in the candidate's artifacts ("" = the root)
    uri: str  # the model version's source
    label: str  # what a person is told will be registered
    model_id: str | None = None

    @property
    def choice(self) -> str:
        """How a form or a command names this source."""
        return f"{self.kind}:{self.ref}"


def _storage_root(project_id: int, artifact_uri: str) -> str | None:
    """The storage key of an artifact location this server holds, or None."""
    try:
        return join_key(str(project_id), proxied_root_path(artifact_uri))
    except MlflowError:
        return None


def _holds_mlmodel(storage: ArtifactStorage, key: str) -> bool:
    return any(info.path == MLMODEL and not info.is_dir for info in storage.list_dir(key))


def logged_model_sources(conn: Connection, storage: ArtifactStorage, project_id: int, run_id: str) -> list[ModelSource]:
    """The candidate's output logged models that finished uploading, latest step (then newest) first."""
    rows = conn.execute(
        select(logged_models)
        .join(run_models, run_models.c.model_id == logged_models.c.model_id)
        .where(
            run_models.c.run_uuid == run_id,
            run_models.c.direction == "output",
            logged_models.c.project_id == project_id,
            logged_models.c.lifecycle_stage == ACTIVE,
            logged_models.c.status == READY,
        )
        .order_by(run_models.c.step.desc(), logged_models.c.creation_timestamp_ms.desc())
    ).all()
    found = []
    for row in rows:
        root = _storage_root(project_id, row.artifact_location)
        if root is not None and _holds_mlmodel(storage, root):
            found.append(ModelSource("logged_model", row.model_id, f"models:/{row.model_id}",
                                     f"logged model '{row.name}' ({row.model_id})", row.model_id))
    return found


def artifact_folder_sources(storage: ArtifactStorage, project_id: int, run) -> list[ModelSource]:
    """Folders of the candidate's artifacts (the root, then breadth first) that hold an MLmodel."""
    root = _storage_root(project_id, run.artifact_uri)
    if root is None:
        return []
    found, queue, listings = [], [("", 0)], 0
    while queue and listings < MAX_LISTINGS:
        relative, depth = queue.pop(0)
        infos = storage.list_dir(join_key(root, relative))
        listings += 1
        if any(info.path == MLMODEL and not info.is_dir for info in infos):
            uri = run.artifact_uri.rstrip("/") + (f"/{relative}" if relative else "")
            label = f"artifact folder '{relative}/'" if relative else "the candidate's artifact root"
            found.append(ModelSource("artifacts", relative, uri, f"{label} (holds an MLmodel)"))
        if depth < MAX_DEPTH:
            queue += [(posixpath.join(relative, info.path) if relative else info.path, depth + 1)
                      for info in infos if info.is_dir]
    return found


def model_sources(conn: Connection, storage: ArtifactStorage, project_id: int, run) -> list[ModelSource]:
    """Everything of the candidate (a runs row) that would load as a model version, preferred first."""
    return logged_model_sources(conn, storage, project_id, run.run_uuid) + artifact_folder_sources(storage, project_id, run)
