"""Logged models of a project. Artifacts live under the experiment's artifact location:
`mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts`, served by the artifact proxy."""
from __future__ import annotations

import json
import uuid

from sqlalchemy import Connection, delete, insert, select, update

from mltracker.service.db.registry_schema import logged_model_params, logged_model_tags, logged_models
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.errors import invalid, not_found
from mltracker.service.logged_models.status import PENDING
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.clock import now_ms
from mltracker.service.tracking.run_names import generate_run_name

MODEL_VERSIONS_TAG = "mlflow.modelVersions"
_BAD_NAME_CHARS = ("/", ":", ".", "%", '"', "'")


def validate_name(name) -> None:
    if name is None:
        return
    if not name or any(c in name for c in _BAD_NAME_CHARS):
        raise invalid(
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {_BAD_NAME_CHARS}"
        )


def _pairs(items: list[dict] | None, what: str) -> dict[str, str]:
    result = {}
    for item in items or []:
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str) or not key:
            raise invalid(f"Missing value for required parameter '{what}.key'.")
        result[key] = "" if value is None else str(value)
    return result


def create(
    conn: Connection,
    project_id: int,
    experiment_id: int,
    name=None,
    model_type=None,
    source_run_id=None,
    params: list[dict] | None = None,
    tags: list[dict] | None = None,
) -> str:
    validate_name(name)
    experiment = exps.get_experiment_row(conn, project_id, experiment_id)
    if experiment.lifecycle_stage != exps.ACTIVE:
        raise invalid(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )
    model_id = f"m-{uuid.uuid4().hex}"
    now = now_ms()
    conn.execute(
        insert(logged_models).values(
            model_id=model_id,
            project_id=project_id,
            experiment_id=experiment_id,
            name=name or generate_run_name(),
            artifact_location=f"{experiment.artifact_location.rstrip('/')}/models/{model_id}/artifacts",
            creation_timestamp_ms=now,
            last_updated_timestamp_ms=now,
            status=PENDING,
            lifecycle_stage=exps.ACTIVE,
            model_type=model_type or None,
            source_run_id=source_run_id or None,
        )
    )
    _upsert(conn, logged_model_params, model_id, _pairs(params, "params"))
    _upsert(conn, logged_model_tags, model_id, _pairs(tags, "tags"))
    return model_id


def _upsert(conn: Connection, table, model_id: str, pairs: dict[str, str]) -> None:
    upsert_rows(conn, table, [{"model_id": model_id, "key": k, "value": val} for k, val in pairs.items()],
                ["model_id", "key"], ["value"])


def get_row(conn: Connection, project_id: int, model_id, *, allow_deleted: bool = False):
    row = conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).first()
    if row is None or row.project_id != project_id or (
        not allow_deleted and row.lifecycle_stage == exps.DELETED
    ):
        raise not_found(f"Logged model with ID '{model_id}' not found.")
    return row


def _touch(conn: Connection, model_id: str) -> None:
    conn.execute(
        update(logged_models).where(logged_models.c.model_id == model_id)
        .values(last_updated_timestamp_ms=now_ms())
    )


def finalize(conn: Connection, project_id: int, model_id, status: int) -> None:
    get_row(conn, project_id, model_id)
    conn.execute(
        update(logged_models).where(logged_models.c.model_id == model_id)
        .values(status=status, last_updated_timestamp_ms=now_ms())
    )


def delete_model(conn: Connection, project_id: int, model_id) -> None:
    get_row(conn, project_id, model_id)
    conn.execute(
        update(logged_models).where(logged_models.c.model_id == model_id)
        .values(lifecycle_stage=exps.DELETED, last_updated_timestamp_ms=now_ms())
    )


def log_params(conn: Connection, project_id: int, model_id, params: list[dict]) -> None:
    get_row(conn, project_id, model_id)
    _upsert(conn, logged_model_params, model_id, _pairs(params, "params"))


def set_tags(conn: Connection, project_id: int, model_id, tags: list[dict]) -> None:
    get_row(conn, project_id, model_id)
    _upsert(conn, logged_model_tags, model_id, _pairs(tags, "tags"))


def delete_tag(conn: Connection, project_id: int, model_id, key) -> None:
    get_row(conn, project_id, model_id)
    removed = conn.execute(
        delete(logged_model_tags).where(logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key)
    ).rowcount
    if not removed:
        raise not_found(f"No tag with key {key!r} found for model with ID {model_id!r}.")


def record_model_version(conn: Connection, project_id: int, model_id: str, name: str, version: int) -> None:
    """Add {"name", "version"} to the model's mlflow.modelVersions tag, as MLflow's server does
    after create_model_version (the client then appends its own entry too)."""
    get_row(conn, project_id, model_id)
    entry = {"name": name, "version": version}
    current = conn.execute(
        select(logged_model_tags.c.value).where(
            logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == MODEL_VERSIONS_TAG
        )
    ).scalar()
    entries = [entry]
    if current:
        try:
            existing = json.loads(current)
        except ValueError:
            existing = []
        if isinstance(existing, list):
            entries = existing if entry in existing else existing + [entry]
    _upsert(conn, logged_model_tags, model_id, {MODEL_VERSIONS_TAG: json.dumps(entries)})


def latest_output_model(conn: Connection, project_id: int, run_id: str):
    """The run's output logged model at the greatest step (newest on ties), or None."""
    from mltracker.service.db.schema import run_models

    return conn.execute(
        select(logged_models)
        .join(run_models, run_models.c.model_id == logged_models.c.model_id)
        .where(
            run_models.c.run_uuid == run_id,
            run_models.c.direction == "output",
            logged_models.c.project_id == project_id,
            logged_models.c.lifecycle_stage == exps.ACTIVE,
        )
        .order_by(run_models.c.step.desc(), logged_models.c.creation_timestamp_ms.desc())
        .limit(1)
    ).first()
